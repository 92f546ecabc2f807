package agent

import (
	"math"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// chunkLength is how many source seconds a chunk covers; the last chunk
// (duration 0) runs to the end of a source of total seconds.
func chunkLength(c *v1.Chunk, total float64) float64 {
	if d := c.GetDurationSeconds(); d > 0 {
		return d
	}
	return math.Max(total-c.GetStartSeconds(), 0)
}

// eta estimates the seconds left to encode remaining source seconds at
// speed (x real time); 0 when the speed is unknown.
func eta(remaining, speed float64) float64 {
	if speed <= 0 || remaining <= 0 || math.IsNaN(speed) || math.IsInf(speed, 0) {
		return 0
	}
	return remaining / speed
}
