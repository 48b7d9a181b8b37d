package sender

import (
	"math"
	"time"

	"github.com/bullseye-mock/bullseye-mock/clock"
)

func (s *Sender) scheduleLocked(d *delivery, due int64) {
	d.state = stScheduled
	d.due = due
	if d.attempts == 0 {
		s.st.scheduled++
	} else {
		s.st.retrying++
	}
	s.heap.push(heapEntry{due: due, d: d})
	if due < s.armed {
		s.armed = math.MinInt64 // it will look again; one wake-up is enough
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// popDueLocked moves up to len(batch) entries due by now from the heap to
// the ready state.
func (s *Sender) popDueLocked(now int64, batch []*delivery) []*delivery {
	for len(batch) < cap(batch) && len(s.heap) > 0 && s.heap[0].due <= now {
		e := s.heap.pop()
		if !s.liveLocked(e) {
			continue
		}
		s.unscheduleLocked(e.d)
		e.d.state = stReady
		s.st.ready++
		s.tellLocked(e.d, false)
		batch = append(batch, e.d)
	}
	return batch
}

func (s *Sender) unscheduleLocked(d *delivery) {
	if d.attempts == 0 {
		s.st.scheduled--
	} else {
		s.st.retrying--
	}
}

// liveLocked tells a heap entry that still stands from one left behind by
// Reset (the delivery was dropped; the heap is not searched to remove it).
func (s *Sender) liveLocked(e heapEntry) bool {
	return e.d.state == stScheduled && e.d.due == e.due
}

// headLocked returns the due time of the earliest live entry, dropping dead
// ones on the way.
func (s *Sender) headLocked() (int64, bool) {
	for len(s.heap) > 0 {
		if s.liveLocked(s.heap[0]) {
			return s.heap[0].due, true
		}
		s.heap.pop()
	}
	return 0, false
}

// schedule is the one scheduler goroutine: it hands due deliveries to the
// workers in batches and sleeps on one clock timer armed for the head.
func (s *Sender) schedule() {
	defer s.wg.Done()
	var (
		timer   clock.Timer
		timerAt int64
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	batch := make([]*delivery, 0, 256)
	for {
		s.mu.Lock()
		s.armed = math.MinInt64
		batch = s.popDueLocked(s.clock.Now().UnixNano(), batch[:0])
		var head int64
		var ok bool
		if len(batch) == 0 {
			head, ok = s.headLocked()
			s.armed = math.MaxInt64
			if ok {
				s.armed = head
			}
		}
		s.mu.Unlock()

		if len(batch) > 0 {
			for i, d := range batch {
				select {
				case s.work <- d:
				case <-s.stop:
					s.requeue(batch[i:])
					return
				}
				batch[i] = nil
			}
			continue
		}
		var fire <-chan time.Time
		if !ok && timer != nil {
			// Nothing scheduled: drop the timer, so that a manual clock's
			// pending timers are only the ones that matter.
			timer.Stop()
			timer = nil
		}
		if ok {
			if timer == nil || timerAt != head {
				if timer != nil {
					timer.Stop()
				}
				timer, timerAt = s.clock.TimerAt(time.Unix(0, head)), head
			}
			fire = timer.C()
		}
		select {
		case <-fire:
			timer = nil
		case <-s.wake:
		case <-s.stop:
			return
		}
	}
}

// requeue returns deliveries the scheduler could not hand out before
// shutdown to the heap, so that they count as pending.
func (s *Sender) requeue(ds []*delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		if d.state == stReady {
			s.st.ready--
			s.scheduleLocked(d, d.due)
			s.tellLocked(d, false)
		}
	}
}

// notifyLocked wakes every Wait, Idle and Settled call. It costs nothing
// when nobody waits: the channel exists only while someone does.
func (s *Sender) notifyLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

func (s *Sender) changedLocked() <-chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.changed
}

// Shutdown stops intake (Send returns ErrClosed), starts no new attempt,
// and waits for the attempts in flight to finish until ctx ends; then it
// aborts those left. It reports how many deliveries were not final, and
// ctx's error if it ended first.
