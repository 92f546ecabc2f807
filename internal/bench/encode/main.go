// Command encode supports scripts/bench-encode.sh (make bench-encode), which
// times one raw ffmpeg ladder encode against vodfleet on the same source and
// compares the outputs:
//
//	encode ports N                          print N free loopback TCP ports
//	encode ladder -size WxH [-ladder NAME]  print the renditions vodfleet plans for
//	                                        a source of that size, one per line:
//	                                        name width height bitrate maxrate profile level
//	encode check -job JOB.json              check that the job (submit --json) succeeded
//	                                        and print its number of video tasks
//	encode fetch -job JOB.json -out DIR     check, then download every video rendition of
//	                                        its HLS master playlist through the edge into
//	                                        DIR/v<name>/
//	encode report -runs RUNS.tsv -src SRC   measure each rendition (bitrate from the
//	                                        segments, PSNR and SSIM against the scaled
//	                                        source) and print the table
//
// The bench is a measurement, not a test: it prints figures next to their
// targets and fails only when an encode fails.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: encode ports|ladder|check|fetch|report [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "ports":
		err = ports(os.Args[2:])
	case "ladder":
		err = ladderCmd(os.Args[2:])
	case "check":
		err = checkCmd(os.Args[2:])
	case "fetch":
		err = fetchCmd(os.Args[2:])
	case "report":
		err = reportCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-encode:", err)
		os.Exit(1)
	}
}

// ports prints free loopback ports. All listeners stay open until every
// port is picked, so the ports are distinct.
func ports(args []string) error {
	fs := flag.NewFlagSet("ports", flag.ExitOnError)
	_ = fs.Parse(args)
	n := 1
	if fs.NArg() > 0 {
		v, err := strconv.Atoi(fs.Arg(0))
		if err != nil || v < 1 {
			return fmt.Errorf("ports: bad count %q", fs.Arg(0))
		}
		n = v
	}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}
