package sender

// index finds deliveries by id. It is an open-addressing hash table of
// pointers only (8 bytes a slot, linear probing, backward-shift deletion),
// about 17 bytes per delivery at a million, where a Go map of the same
// keys costs twice that; and it shrinks when emptied, which a Go map never
// does. Keys are the first 8 bytes of the UUID (random bits), which Send
// keeps unique.
type index struct {
	slots []*delivery // length a power of two, or zero
	n     int
}

const indexMinSlots = 64

func (x *index) home(key uint64) int {
	// Fibonacci hashing: spreads keys even if a seeded id source is weak.
	return int((key * 0x9E3779B97F4A7C15) >> (64 - bitsFor(len(x.slots))))
}

func bitsFor(n int) uint {
	b := uint(0)
	for 1<<b < n {
		b++
	}
	return b
}

func (x *index) get(key uint64) *delivery {
	if x.n == 0 {
		return nil
	}
	mask := len(x.slots) - 1
	for i := x.home(key); ; i = (i + 1) & mask {
		d := x.slots[i]
		if d == nil {
			return nil
		}
		if idKey(d.id) == key {
			return d
		}
	}
}

// put adds d, whose key must not be present.
func (x *index) put(d *delivery) {
	if (x.n+1)*4 > len(x.slots)*3 { // keep the load at most 3/4
		x.resize(max(indexMinSlots, len(x.slots)*2))
	}
	x.insert(d)
	x.n++
}

func (x *index) insert(d *delivery) {
	mask := len(x.slots) - 1
	i := x.home(idKey(d.id))
	for x.slots[i] != nil {
		i = (i + 1) & mask
	}
	x.slots[i] = d
}

func (x *index) del(key uint64) {
	if x.n == 0 {
		return
	}
	mask := len(x.slots) - 1
	i := x.home(key)
	for {
		d := x.slots[i]
		if d == nil {
			return
		}
		if idKey(d.id) == key {
			break
		}
		i = (i + 1) & mask
	}
	// Backward-shift: move later entries of the probe run into the hole
	// when their home position allows, so no tombstones are needed.
	for j := (i + 1) & mask; x.slots[j] != nil; j = (j + 1) & mask {
		k := x.home(idKey(x.slots[j].id))
		// Move j to i unless k lies cyclically in (i, j].
		if (i <= j && (k <= i || k > j)) || (i > j && k <= i && k > j) {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = nil
	x.n--
	if len(x.slots) > indexMinSlots && x.n*8 < len(x.slots) {
		x.resize(len(x.slots) / 2)
	}
}

func (x *index) resize(size int) {
	old := x.slots
	x.slots = make([]*delivery, size)
	for _, d := range old {
		if d != nil {
			x.insert(d)
		}
	}
}

func (x *index) all(yield func(*delivery) bool) {
	for _, d := range x.slots {
		if d != nil && !yield(d) {
			return
		}
	}
}
