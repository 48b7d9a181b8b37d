package feed

import (
	"fmt"
	"testing"
)

// ids lists events' ids as offsets from the feed's first.
func ids(f *Feed, evs []Event) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf("%d,", e.ID-f.First()+1)
	}
	return s
}

// Nothing is kept (nor allocated) until someone subscribes; then every
// event is numbered, kept, and read back in order from any point the ring
// still holds. Ids start past every earlier process's: at the start time.
func TestFeedKeepsEventsOnceWatched(t *testing.T) {
	f := New(4)
	f.Publish(Delivery, Attrs{}, nil)
	if f.Watching() || f.Last() != f.First()-1 || f.ring != nil {
		t.Fatalf("an unwatched feed kept an event: last %d, first %d", f.Last(), f.First())
	}
	if evs, missed, _ := f.Read(0, make([]Event, 0, 4)); len(evs) != 0 || missed != 0 {
		t.Fatalf("an unwatched feed read %v, missed %d", evs, missed)
	}
	release, err := f.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if New(0).First() < f.First() {
		t.Error("a later feed's ids start below an earlier one's")
	}
	buf := make([]Event, 0, 10)
	_, _, wake := f.Read(0, buf)
	for i := 0; i < 6; i++ {
		f.Publish(Attempt, Attrs{Delivery: fmt.Sprint(i)}, i)
	}
	select {
	case <-wake:
	default:
		t.Fatal("a publish did not wake the reader")
	}
	// after is an offset from the first id: 1 is the first event.
	at := func(n uint64) uint64 { return f.First() - 1 + n }
	for _, c := range []struct {
		after  uint64
		want   string
		missed uint64
	}{
		{0, "3,4,5,6,", 2}, // the ring holds the last 4
		{2, "3,4,5,6,", 0},
		{4, "5,6,", 0},
		{6, "", 0},
		{9, "", 0}, // an id never given: nothing (the stream calls it lost)
	} {
		evs, missed, _ := f.Read(at(c.after), buf)
		if ids(f, evs) != c.want || missed != c.missed {
			t.Errorf("Read(%d) = %s missed %d, want %s missed %d", c.after, ids(f, evs), missed, c.want, c.missed)
		}
	}
	if evs, _, _ := f.Read(at(2), make([]Event, 0, 2)); ids(f, evs) != "3,4," {
		t.Errorf("a small buffer read %s, want 3,4,", ids(f, evs))
	}
	if evs, _, _ := f.Read(at(5), buf); evs[0].Data != 5 || evs[0].Attrs.Delivery != "5" || evs[0].Name != Attempt {
		t.Errorf("event 6 = %+v", evs[0])
	}
}

func TestFeedBoundsReaders(t *testing.T) {
	f := New(0)
	var releases []func()
	for range MaxReaders {
		r, err := f.Subscribe()
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	if _, err := f.Subscribe(); err != ErrTooManyReaders {
		t.Fatalf("reader %d: %v", MaxReaders+1, err)
	}
	releases[0]()
	releases[0]() // twice is once
	if f.Readers() != MaxReaders-1 {
		t.Fatalf("readers = %d", f.Readers())
	}
	if _, err := f.Subscribe(); err != nil {
		t.Fatal(err)
	}
}

// What the sender pays per change: one atomic load while nobody watches,
// a locked ring write once someone does.
func BenchmarkPublish(b *testing.B) {
	b.Run("unwatched", func(b *testing.B) {
		f := New(0)
		for b.Loop() {
			f.Publish(Delivery, Attrs{}, nil)
		}
	})
	b.Run("watched", func(b *testing.B) {
		f := New(0)
		release, _ := f.Subscribe()
		defer release()
		b.ReportAllocs()
		for b.Loop() {
			f.Publish(Delivery, Attrs{Delivery: "x"}, 1)
		}
	})
}
