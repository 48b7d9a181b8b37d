package sender

// dueHeap is the scheduler's queue: a 4-ary min-heap of (due, delivery)
// ordered by due mock time. The key sits in the entry itself so that sifting
// never dereferences a delivery (a cache miss each at a million entries),
// and a 4-ary heap halves the depth of a binary one for the same reason.
// An entry is 16 bytes; it is the only per-delivery cost of the scheduler
// besides the delivery record.
type dueHeap []heapEntry

type heapEntry struct {
	due int64 // mock Unix nanoseconds
	d   *delivery
}

func (h *dueHeap) push(e heapEntry) {
	*h = append(*h, e)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 4
		if a[p].due <= e.due {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = e
}

// pop removes the head; the caller checks len first.
func (h *dueHeap) pop() heapEntry {
	a := *h
	top := a[0]
	n := len(a) - 1
	last := a[n]
	a[n] = heapEntry{} // drop the pointer for the GC
	a = a[:n]
	if n > 0 {
		i := 0
		for {
			c := 4*i + 1
			if c >= n {
				break
			}
			m := c
			for k := c + 1; k < c+4 && k < n; k++ {
				if a[k].due < a[m].due {
					m = k
				}
			}
			if a[m].due >= last.due {
				break
			}
			a[i] = a[m]
			i = m
		}
		a[i] = last
	}
	// Give memory back after a burst (a million pending retries drained):
	// a slice never shrinks by itself.
	if cap(a) > 4096 && n < cap(a)/4 {
		a = append(dueHeap(nil), a...)
	}
	*h = a
	return top
}
