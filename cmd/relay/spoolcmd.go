package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/reportline/reportline/relay/config"
	"github.com/reportline/reportline/relay/spool"
)

const spoolUsage = `usage:
  relay spool ls [-json]              list pending and dead reports (never their bodies)
  relay spool retry ID                deliver a report again now (pending or dead)
  relay spool retry --all-dead        move every dead report back to pending
  relay spool purge ID --yes          delete a dead report, or one whose record is corrupt, for good
  relay spool compact                 shrink the file to its live data (the relay also does this itself)
flags, for every subcommand:
  -config FILE    the relay's configuration, for relay.spool and relay.admin_socket (env RELAY_CONFIG)
  -spool PATH     the spool file, without reading the configuration (env RELAY_SPOOL)
  -socket PATH    a running relay's admin socket (env RELAY_ADMIN_SOCKET)`

// spoolCommand runs `relay spool SUBCOMMAND`. While the relay runs, it
// works through relay.admin_socket; when the relay is stopped, on the
// spool file itself.
func spoolCommand(stdout io.Writer, args []string) error {
	if len(args) == 0 {
		return errors.New(spoolUsage)
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, spoolUsage)
		return nil
	case "ls", "retry", "purge", "compact":
	default:
		return fmt.Errorf("unknown spool command %q\n%s", sub, spoolUsage)
	}
	fs := flag.NewFlagSet("spool "+sub, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), spoolUsage) }
	path := fs.String("config", envOr("RELAY_CONFIG", "relay.toml"), "")
	spoolPath := fs.String("spool", os.Getenv("RELAY_SPOOL"), "")
	socket := fs.String("socket", os.Getenv("RELAY_ADMIN_SOCKET"), "")
	asJSON := fs.Bool("json", false, "")
	allDead := fs.Bool("all-dead", false, "")
	yes := fs.Bool("yes", false, "")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	configSet := false
	fs.Visit(func(f *flag.Flag) { configSet = configSet || f.Name == "config" })
	var cfg *config.Config
	if *spoolPath == "" && *socket == "" || configSet {
		if cfg, err = config.Load(*path, config.EnvOverrides(os.Getenv)...); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return hint{err, "pass -config FILE, the relay's configuration, or -spool PATH to work on a spool file without one"}
			}
			return hint{err, "fix the value named above (relay check-config " + *path + " checks the file), or pass -spool PATH to work on the spool file without the configuration"}
		}
		if *spoolPath == "" {
			*spoolPath = cfg.Relay.Spool
		}
		if *socket == "" {
			*socket = cfg.Relay.AdminSocket
		}
	}
	var ops spoolOps
	if cfg != nil && cfg.Relay.Store == config.StoreJetStream {
		// The cluster is shared: it is worked on directly, relays running
		// or not.
		st, err := openStore(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		ops = fileOps{sp: st, notify: func() {}}
	} else if ops, err = openSpoolOps(*spoolPath, *socket); err != nil {
		return err
	}
	defer ops.Close()
	switch {
	case sub == "ls" && len(pos) == 0:
		return spoolList(stdout, ops, *asJSON)
	case sub == "retry" && *allDead && len(pos) == 0:
		n, err := ops.RetryAllDead()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d dead reports moved back to pending, due now\n", n)
		return nil
	case sub == "retry" && !*allDead && len(pos) == 1:
		v, err := ops.Retry(pos[0])
		if err != nil {
			return notFoundHint(err, pos[0])
		}
		fmt.Fprintf(stdout, "%s: pending, due now (was: %s)\n", v.ID, orDash(v.LastError))
		return nil
	case sub == "compact" && len(pos) == 0:
		c, err := ops.Compact()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "spool compacted: %s before, %s after\n", byteSize(c.Before), byteSize(c.After))
		return nil
	case sub == "purge" && len(pos) == 1:
		return spoolPurge(stdout, ops, pos[0], *yes)
	}
	return errors.New(spoolUsage)
}

// openSpoolOps opens the spool file, or, if the relay holds it, the
// running relay's admin socket.
func openSpoolOps(spoolPath, socket string) (spoolOps, error) {
	if socket != "" {
		if _, err := os.Stat(socket); err == nil {
			c, err := net.DialTimeout("unix", socket, 10*time.Second)
			if err == nil {
				c.Close()
			}
			// Refused: nobody listens, the socket of a relay that was
			// killed. The file is then worked on, as when it stopped.
			if !errors.Is(err, syscall.ECONNREFUSED) {
				return dialAdmin(socket), nil
			}
		}
	}
	if spoolPath == "" {
		return nil, errors.New("no spool: set relay.spool in the configuration or pass -spool PATH")
	}
	if _, err := os.Stat(spoolPath); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	sp, err := spool.Open(spoolPath)
	if errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission) {
		// A disk mounted read-only, or a user who may only read the
		// file: it can still be listed; writes fail.
		if ro, roErr := spool.OpenReadOnly(spoolPath); roErr == nil {
			return fileOps{sp: ro, notify: func() {}}, nil
		}
	}
	if errors.Is(err, spool.ErrLocked) && socket != "" {
		return nil, hint{err, "the relay is starting, and answers on its admin socket " + socket + " once its spool is open: try again in a moment"}
	}
	if errors.Is(err, spool.ErrLocked) {
		return nil, hint{err, "the relay is running: set relay.admin_socket and restart it so `relay spool` can reach it, or stop the relay first"}
	}
	if err != nil {
		return nil, stateFileHint(err, "relay.spool", spoolPath)
	}
	return fileOps{sp: sp, notify: func() {}}, nil
}

func spoolList(w io.Writer, ops spoolOps, asJSON bool) error {
	list, err := ops.List()
	if err != nil {
		return err
	}
	if asJSON {
		if list == nil {
			list = []entryView{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tHOTLINE\tSITE\tRECEIVED\tATTEMPTS\tNEXT\tLAST ERROR")
	var pending, dead, corrupt int
	for _, v := range list {
		next := "-"
		switch v.State {
		case "pending":
			pending++
			next = v.NextAttempt.UTC().Format(time.RFC3339)
		case "corrupt":
			corrupt++
		default:
			dead++
		}
		state := v.State
		if v.Urgent {
			state += " (urgent)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", v.ID, state, v.Hotline, orDash(v.Site),
			v.Received.UTC().Format(time.RFC3339), v.Attempts, next, orDash(oneLine(v.LastError)))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d pending, %d dead\n", pending, dead)
	if corrupt > 0 {
		fmt.Fprintf(w, "%d corrupt: their records no longer pass their checksums and are passed over; "+
			"tell the hotline their ids, then `relay spool purge ID --yes` removes each (docs/deployment.md#a-damaged-spool)\n", corrupt)
	}
	return nil
}

func spoolPurge(w io.Writer, ops spoolOps, id string, yes bool) error {
	list, err := ops.List()
	if err != nil {
		return err
	}
	var found *entryView
	for i := range list {
		if list[i].ID == id {
			found = &list[i]
		}
	}
	switch {
	case found == nil:
		return notFoundHint(fmt.Errorf("purge report %s: %w", id, spool.ErrNotFound), id)
	case found.State == "pending":
		return hint{fmt.Errorf("purge report %s: %w", id, errNotDead), "a pending report is still being delivered; only a report in the dead-letter area, or one whose record is corrupt, can be purged"}
	case found.State == "corrupt" && !yes:
		fmt.Fprintf(w, "%s: corrupt, its record cannot be read: %s\n", found.ID, orDash(found.LastError))
		return hint{errors.New("purge deletes what is left of this report for good, and its reporter will never be heard"),
			"tell the hotline its id first, and restore a backup that holds it if there is one (docs/deployment.md#a-damaged-spool); then add --yes to purge it"}
	case !yes:
		fmt.Fprintf(w, "%s: dead, hotline %s, received %s, %d attempts, last error: %s\n",
			found.ID, found.Hotline, found.Received.UTC().Format(time.RFC3339), found.Attempts, orDash(found.LastError))
		return hint{errors.New("purge deletes this report for good, and its reporter will never be heard"),
			"run `relay spool retry " + id + "` to deliver it instead, or add --yes to purge it"}
	}
	p, err := ops.Purge(id)
	if err != nil {
		return err
	}
	if p.Corrupt == nil {
		fmt.Fprintf(w, "%s: purged\n", id)
		return nil
	}
	fmt.Fprintf(w, "%s: %s\n", id, describeCorruptPurge(*p.Corrupt))
	return nil
}

// describeCorruptPurge says what went with a corrupt record.
func describeCorruptPurge(c corruptPurge) string {
	was := "pending"
	if c.Dead {
		was = "dead"
	}
	s := fmt.Sprintf("corrupt record purged (it was %s), with %d index keys", was, c.IndexKeys)
	switch {
	case c.BodyLeft:
		s += "; its body could not be told from those of the other corrupt records, and is removed when the last of them is purged"
	case c.Bodies == 1:
		s += " and its body"
	case c.Bodies > 1:
		s += fmt.Sprintf(" and %d bodies that no record named any more, its own among them", c.Bodies)
	default:
		s += "; it held its body itself"
	}
	return s
}

func notFoundHint(err error, id string) error {
	if errors.Is(err, spool.ErrNotFound) {
		return hint{err, "no report " + id + " is pending or dead; `relay spool ls` lists them (a delivered report is no longer in the spool)"}
	}
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// byteSize writes n bytes for a person: "890.2 MB", "256.0 KB".
func byteSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
