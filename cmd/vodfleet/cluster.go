package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// clusterOut is the JSON shape of `vodfleet cluster --json`; field names
// are stable.
type clusterOut struct {
	AnsweredBy   string         `json:"answered_by"`
	IsLeader     bool           `json:"is_leader"`
	Leader       string         `json:"leader"`
	Followers    []string       `json:"followers"`
	Queue        map[string]int `json:"queue,omitempty"`
	ActiveLeases int            `json:"active_leases"`
	Jobs         map[string]int `json:"jobs"`
	Agents       []agentOut     `json:"agents"`
}

// agentOut is the JSON shape of an agent.
type agentOut struct {
	ID      string            `json:"id"`
	State   string            `json:"state"`
	Slots   int               `json:"slots"`
	Busy    int               `json:"busy"`
	Labels  map[string]string `json:"labels"`
	Running []string          `json:"running_tasks"`
}

func runCluster(args []string, stdout io.Writer) error {
	var cf clientFlags
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	cf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	conn, err := cf.sec.dial(cf.coordinator)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cf.timeout)
	defer cancel()
	resp, err := v1.NewClusterServiceClient(conn).GetCluster(ctx, &v1.GetClusterRequest{})
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if cf.json {
		return printJSON(stdout, clusterJSON(resp))
	}
	printCluster(stdout, resp)
	return nil
}

func clusterJSON(r *v1.GetClusterResponse) clusterOut {
	out := clusterOut{
		AnsweredBy: r.GetAnsweredBy(), IsLeader: r.GetIsLeader(), Leader: r.GetLeader(),
		Followers: append([]string{}, r.GetFollowers()...), ActiveLeases: int(r.GetActiveLeases()),
		Jobs: map[string]int{}, Agents: []agentOut{},
	}
	if r.GetIsLeader() {
		out.Queue = map[string]int{}
		for _, q := range r.GetQueue() {
			out.Queue[stateName(q.GetPriority(), "PRIORITY_")] = int(q.GetTasks())
		}
	}
	for _, j := range r.GetJobs() {
		out.Jobs[stateName(j.GetState(), "JOB_STATE_")] = int(j.GetCount())
	}
	for _, a := range r.GetAgents() {
		out.Agents = append(out.Agents, agentOut{
			ID: a.GetId(), State: stateName(a.GetState(), "AGENT_STATE_"), Slots: int(a.GetSlots()), Busy: int(a.GetBusy()),
			Labels: a.GetLabels(), Running: append([]string{}, a.GetRunningTasks()...),
		})
	}
	return out
}

// printCluster prints the at-a-glance view: coordinators, queue, jobs,
// then one line per agent.
func printCluster(w io.Writer, r *v1.GetClusterResponse) {
	leader := r.GetLeader()
	if leader == "" {
		leader = "(none elected)"
	}
	fmt.Fprintf(w, "leader     %s\n", leader)
	fmt.Fprintf(w, "followers  %s\n", orNone(strings.Join(r.GetFollowers(), ", ")))
	var jobs []string
	for _, j := range r.GetJobs() {
		jobs = append(jobs, fmt.Sprintf("%s %d", stateName(j.GetState(), "JOB_STATE_"), j.GetCount()))
	}
	fmt.Fprintf(w, "jobs       %s\n", orNone(strings.Join(jobs, "  ")))
	if !r.GetIsLeader() {
		fmt.Fprintf(w, "\n%s is a follower: queue, leases and agents are known to the leader only (vodfleet cluster --coordinator %s)\n",
			r.GetAnsweredBy(), r.GetLeader())
		return
	}
	var queue []string
	for _, q := range r.GetQueue() {
		queue = append(queue, fmt.Sprintf("%s %d", stateName(q.GetPriority(), "PRIORITY_"), q.GetTasks()))
	}
	fmt.Fprintf(w, "queue      %s\n", strings.Join(queue, "  "))
	busy, slots := 0, 0
	for _, a := range r.GetAgents() {
		busy += int(a.GetBusy())
		slots += int(a.GetSlots())
	}
	fmt.Fprintf(w, "leases     %d active; slots %d/%d busy on %d agents\n\n", r.GetActiveLeases(), busy, slots, len(r.GetAgents()))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AGENT\tSTATE\tBUSY/SLOTS\tLABELS\tENCODERS")
	for _, a := range r.GetAgents() {
		labels, encoders := splitLabels(a.GetLabels())
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\t%s\n", a.GetId(), stateName(a.GetState(), "AGENT_STATE_"),
			a.GetBusy(), a.GetSlots(), orNone(labels), orNone(encoders))
	}
	_ = tw.Flush()
}

// splitLabels formats an agent's labels compactly: operator labels as
// k=v, detected encoders ("encoder.NAME"="true") as a list of names. The
// codec labels ("codec.h264"="true", ...) follow from the encoders and are
// left out (the JSON output has them).
func splitLabels(m map[string]string) (labels, encoders string) {
	var ls, es []string
	for k, v := range m {
		if name, ok := strings.CutPrefix(k, "encoder."); ok && v == "true" {
			es = append(es, name)
			continue
		}
		if strings.HasPrefix(k, "codec.") && v == "true" {
			continue
		}
		ls = append(ls, k+"="+v)
	}
	sort.Strings(ls)
	sort.Strings(es)
	return strings.Join(ls, ","), strings.Join(es, ",")
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
