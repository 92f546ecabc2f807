package coordinator

import (
	"fmt"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// placeAsset chooses the storage node of a new job's asset. A source the
// client uploaded stays where it is: the job publishes to the node holding
// it, so agents read and write one node. Other jobs are spread over the
// nodes by rendezvous hashing of the job id. An uploaded source naming a
// node this coordinator does not know is invalid.
func (c *Coordinator) placeAsset(jobID string, src *v1.Source) (string, error) {
	if src.GetStoragePath() != "" {
		n, err := c.pub.Node(src.GetStorageNode())
		if err != nil {
			return "", fmt.Errorf("source storage node: %w: %w", err, ErrInvalid)
		}
		return n.ID, nil
	}
	return c.pub.Pick(jobID).ID, nil
}
