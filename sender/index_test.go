package sender

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestIndexAgainstMap runs random puts, gets and deletes against a Go map,
// through growth and shrinking, with keys that share low bits so probe
// runs are long and wrap around the table.
func TestIndexAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x index
	ref := map[uint64]*delivery{}
	var keys []uint64
	mk := func(key uint64) *delivery {
		d := &delivery{}
		binary.LittleEndian.PutUint64(d.id[:8], key)
		return d
	}
	for step := range 50_000 {
		switch op := r.IntN(10); {
		case op < 5 || len(keys) == 0:
			key := r.Uint64() & 0xffff_0000_0000_00ff // few distinct high bits: clustering
			if _, dup := ref[key]; dup {
				continue
			}
			d := mk(key)
			x.put(d)
			ref[key] = d
			keys = append(keys, key)
		case op < 8 || step > 40_000: // the tail drains the table, to shrink it
			i := r.IntN(len(keys))
			key := keys[i]
			keys[i] = keys[len(keys)-1]
			keys = keys[:len(keys)-1]
			x.del(key)
			delete(ref, key)
		default:
			key := keys[r.IntN(len(keys))]
			if x.get(key) != ref[key] {
				t.Fatalf("step %d: get(%x) wrong", step, key)
			}
		}
		if x.n != len(ref) {
			t.Fatalf("step %d: n = %d, want %d", step, x.n, len(ref))
		}
	}
	for key, d := range ref {
		if x.get(key) != d {
			t.Fatalf("get(%x) lost", key)
		}
	}
	seen := 0
	for range x.all {
		seen++
	}
	if seen != len(ref) || x.get(12345) != nil {
		t.Fatalf("iteration saw %d of %d", seen, len(ref))
	}
	if len(ref) < 1000 && len(x.slots) > indexMinSlots*32 {
		t.Errorf("%d entries in %d slots: did not shrink", len(ref), len(x.slots))
	}
	x.del(1) // absent key: no-op
}
