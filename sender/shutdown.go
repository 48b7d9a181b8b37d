package sender

import "context"

// Quiesce stops starting attempts: from now on a due delivery stays
// pending, while attempts in flight go on. Shutdown begins with it; a mock
// that starts to shut down calls it first, so nothing falls due and is
// sent while the rest drains.
func (s *Sender) Quiesce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
	s.notifyLocked()
}

// Shutdown stops the sender: it refuses new deliveries, starts no new
// attempt, lets those in flight finish until ctx ends (then aborts them),
// and reports how many deliveries were left pending.
func (s *Sender) Shutdown(ctx context.Context) (pending int, err error) {
	s.Quiesce()
	s.mu.Lock()
	first := !s.closed
	s.closed, s.stopping = true, true
	s.notifyLocked()
	s.mu.Unlock()
	if first {
		close(s.stop)
	}
	// Without Start there is nothing to wait for; make a later Start a no-op.
	s.startOnce.Do(func() {})

	for {
		s.mu.Lock()
		inFlight, ch := s.st.inFlight, s.changedLocked()
		s.mu.Unlock()
		if inFlight == 0 {
			break
		}
		select {
		case <-ch:
			continue
		case <-ctx.Done():
			err = ctx.Err()
		}
		break
	}
	s.cancelCtx() // aborts whatever is still in flight
	s.wg.Wait()
	if s.ownTr != nil {
		s.ownTr.CloseIdleConnections()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range s.byID.all {
		if !d.final() {
			pending++
		}
	}
	s.log.Info("sender stopped", "pending", pending, "delivered", s.st.delivered, "failed", s.st.failed)
	return pending, err
}
