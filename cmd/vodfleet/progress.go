package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// progressView shows a job's progress while `submit --wait` or `watch`
// follows it. On a terminal it redraws one block in place (ANSI cursor
// movement): a bar for the job and one per running task with percent,
// speed, fps, ETA and agent. Otherwise (a pipe, a log file, CI) it writes
// a plain line per change, so logs stay readable and grep-able.
type progressView struct {
	w     io.Writer
	tty   bool
	width int
	// drawn is how many lines the last terminal frame has.
	drawn int
	// last is the last plain line's change key per job or task.
	last map[string]string
}

// barWidth is the width of a progress bar's inside.
const barWidth = 24

// newProgressView renders to w; tty selects the redrawn block, width
// (terminal columns) bounds its lines.
func newProgressView(w io.Writer, tty bool, width int) *progressView {
	if width <= 0 {
		width = 80
	}
	return &progressView{w: w, tty: tty, width: width, last: map[string]string{}}
}

// stderrProgress renders to f, as a terminal when f is one.
func stderrProgress(f *os.File) *progressView {
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return newProgressView(f, false, 0)
	}
	w, _, err := term.GetSize(fd)
	if err != nil {
		w = 80
	}
	return newProgressView(f, true, w)
}

// update shows the job as it is now.
func (p *progressView) update(j *v1.Job, tasks []*v1.Task) {
	if p.tty {
		p.frame(j, tasks)
		return
	}
	p.plain(j, tasks)
}

// frame redraws the block: the cursor goes back up over the previous
// frame, which is cleared, and the new one is written in its place. Once
// the job ended only its line stays.
func (p *progressView) frame(j *v1.Job, tasks []*v1.Task) {
	lines := []string{jobLine(j, tasks)}
	for _, t := range tasks {
		if t.GetState() == v1.TaskState_TASK_STATE_RUNNING && !isTerminal(j.GetState()) {
			lines = append(lines, "  "+taskLine(t))
		}
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\033[%dA", p.drawn)
	}
	b.WriteString("\r\033[J")
	for _, l := range lines {
		b.WriteString(truncate(l, p.width-1))
		b.WriteByte('\n')
	}
	p.drawn = len(lines)
	_, _ = io.WriteString(p.w, b.String())
}

// plain writes a line for the job and for each task whose state, whole
// percent or agent changed since its last line.
func (p *progressView) plain(j *v1.Job, tasks []*v1.Task) {
	p.plainLine("job", fmt.Sprintf("%s %.0f", j.GetState(), 100*j.GetProgress()), jobLine(j, tasks))
	for _, t := range tasks {
		key := fmt.Sprintf("%s %.0f %s", t.GetState(), 100*t.GetProgress(), t.GetAgentId())
		p.plainLine("task "+t.GetName(), key, "task "+taskLine(t))
	}
}

func (p *progressView) plainLine(id, key, line string) {
	if p.last[id] == key {
		return
	}
	p.last[id] = key
	fmt.Fprintln(p.w, line)
}

// jobLine is the job's bar: state, percent, tasks done, ETA.
func jobLine(j *v1.Job, tasks []*v1.Task) string {
	done := 0
	for _, t := range tasks {
		if t.GetState() == v1.TaskState_TASK_STATE_SUCCEEDED {
			done++
		}
	}
	s := fmt.Sprintf("job %s %-9s %s %3.0f%%  %d/%d tasks", j.GetId(), stateName(j.GetState(), "JOB_STATE_"),
		bar(j.GetProgress()), 100*j.GetProgress(), done, len(tasks))
	if e := j.GetEtaSeconds(); e > 0 && !isTerminal(j.GetState()) {
		s += "  ETA " + etaText(e)
	}
	if j.GetError() != "" {
		s += "  " + j.GetError()
	}
	return s
}

// taskLine is a task's bar: name, state, percent, speed, fps, ETA, agent.
func taskLine(t *v1.Task) string {
	s := fmt.Sprintf("%-14s %-9s %s %3.0f%%", t.GetName(), stateName(t.GetState(), "TASK_STATE_"), bar(t.GetProgress()), 100*t.GetProgress())
	if t.GetSpeed() > 0 {
		s += fmt.Sprintf("  %.1fx", t.GetSpeed())
	}
	if t.GetFps() > 0 {
		s += fmt.Sprintf("  %.0f fps", t.GetFps())
	}
	if t.GetEtaSeconds() > 0 && t.GetState() == v1.TaskState_TASK_STATE_RUNNING {
		s += "  ETA " + etaText(t.GetEtaSeconds())
	}
	if t.GetAgentId() != "" {
		s += "  on " + t.GetAgentId()
	}
	if t.GetError() != "" && t.GetState() != v1.TaskState_TASK_STATE_SUCCEEDED {
		s += "  " + t.GetError()
	}
	return s
}

// bar draws a fraction as [#####-----].
func bar(f float64) string {
	f = min(max(f, 0), 1)
	n := int(f*barWidth + 0.5)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", barWidth-n) + "]"
}

// truncate cuts s to at most n characters, so a terminal line never wraps
// (a wrapped line would throw the cursor-up count off).
func truncate(s string, n int) string {
	r := []rune(s)
	if n < 1 || len(r) <= n {
		return s
	}
	return string(r[:n])
}
