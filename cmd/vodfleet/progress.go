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
	// drawn is how many lines the last terminal frame has; frame is its
	// text (an identical frame is not redrawn).
	drawn int
	frame string
	// last is the last plain line's change key per job or task.
	last map[string]string
}

// barWidth is the width of a progress bar's inside: wider in plain lines,
// narrower in the terminal block so a task line fits 80 columns.
const (
	barWidth    = 24
	ttyBarWidth = 20
)

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
		p.redraw(j, tasks)
		return
	}
	p.plain(j, tasks)
}

// redraw draws the block again: the cursor goes back up over the previous
// frame, which is cleared, and the new one is written in its place. Once
// the job ended only its line stays.
func (p *progressView) redraw(j *v1.Job, tasks []*v1.Task) {
	lines := []string{jobLine(j, tasks, true)}
	for _, t := range tasks {
		if t.GetState() == v1.TaskState_TASK_STATE_RUNNING && !isTerminal(j.GetState()) {
			lines = append(lines, "  "+taskLine(t, true))
		}
	}
	text := strings.Join(lines, "\n")
	if text == p.frame {
		return
	}
	p.frame = text
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
	p.plainLine("job", fmt.Sprintf("%s %.0f", j.GetState(), 100*j.GetProgress()), jobLine(j, tasks, false))
	for _, t := range tasks {
		key := fmt.Sprintf("%s %.0f %s", t.GetState(), 100*t.GetProgress(), t.GetAgentId())
		p.plainLine("task "+t.GetName(), key, "task "+taskLine(t, false))
	}
}

func (p *progressView) plainLine(id, key, line string) {
	if p.last[id] == key {
		return
	}
	p.last[id] = key
	fmt.Fprintln(p.w, line)
}

// jobLine is the job's bar: id, state, percent, tasks done, ETA. The
// terminal block leaves the id out (it is printed once above, and the
// block must fit the width).
func jobLine(j *v1.Job, tasks []*v1.Task, tty bool) string {
	done := 0
	for _, t := range tasks {
		if t.GetState() == v1.TaskState_TASK_STATE_SUCCEEDED {
			done++
		}
	}
	var s string
	if tty {
		s = fmt.Sprintf("%-14s %s %3.0f%%  %d/%d tasks", "job "+stateName(j.GetState(), "JOB_STATE_"),
			bar(j.GetProgress(), ttyBarWidth), 100*j.GetProgress(), done, len(tasks))
	} else {
		s = fmt.Sprintf("job %s %-9s %s %3.0f%%  %d/%d tasks", j.GetId(), stateName(j.GetState(), "JOB_STATE_"),
			bar(j.GetProgress(), barWidth), 100*j.GetProgress(), done, len(tasks))
	}
	if e := j.GetEtaSeconds(); e >= 1 && !isTerminal(j.GetState()) {
		s += "  ETA " + etaText(e)
	}
	if j.GetError() != "" {
		s += "  " + j.GetError()
	}
	return s
}

// taskLine is a task's bar: name, state, percent, speed, fps, ETA, agent.
// The terminal block shows only running tasks, so it leaves the state out.
func taskLine(t *v1.Task, tty bool) string {
	var s string
	if tty {
		s = fmt.Sprintf("%-14s %s %3.0f%%", t.GetName(), bar(t.GetProgress(), ttyBarWidth), 100*t.GetProgress())
	} else {
		s = fmt.Sprintf("%-14s %-9s %s %3.0f%%", t.GetName(), stateName(t.GetState(), "TASK_STATE_"), bar(t.GetProgress(), barWidth), 100*t.GetProgress())
	}
	if t.GetSpeed() > 0 {
		s += fmt.Sprintf("  %.1fx", t.GetSpeed())
	}
	if t.GetFps() > 0 {
		s += fmt.Sprintf("  %.0f fps", t.GetFps())
	}
	if t.GetEtaSeconds() >= 1 && t.GetState() == v1.TaskState_TASK_STATE_RUNNING {
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

// bar draws a fraction as [#####-----], width characters inside.
func bar(f float64, width int) string {
	f = min(max(f, 0), 1)
	n := int(f*float64(width) + 0.5)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
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
