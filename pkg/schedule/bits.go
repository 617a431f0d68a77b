package schedule

import "math/bits"

// bitset holds small non-negative integers: minutes, hours, days, months,
// weekdays and years (as offsets from minYear).
type bitset [4]uint64

func (b *bitset) set(i int) { b[i/64] |= 1 << (i % 64) }

func (b *bitset) has(i int) bool {
	return i >= 0 && i < 256 && b[i/64]&(1<<(i%64)) != 0
}

// next returns the smallest member at least i, or -1.
func (b *bitset) next(i int) int {
	if i < 0 {
		i = 0
	}
	for ; i < 256; i = (i/64 + 1) * 64 {
		if w := b[i/64] >> (i % 64); w != 0 {
			return i + bits.TrailingZeros64(w)
		}
	}
	return -1
}
