package mock

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
)

// seededReader is a deterministic, concurrency-safe stream of random bytes
// for ids, so that one seed reproduces a run's ids as well as its payloads.
func seededReader(seed int64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], uint64(seed))
	copy(key[8:], "bullseye-mock ids")
	return &lockedReader{r: rand.NewChaCha8(key)}
}

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
