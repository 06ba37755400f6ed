//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/latchgo/latch/account"
)

// openPTY opens a pseudo-terminal: what the tests write to master, a
// command reads from slave as if typed at a terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the terminal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	// Drain what the terminal echoes, so that it never blocks.
	go io.Copy(io.Discard, m)
	return m, s
}

// typeIn writes to the terminal as a user would type.
func typeIn(t *testing.T, master *os.File, text string) {
	t.Helper()
	if _, err := master.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func TestPromptedPassword(t *testing.T) {
	db := newDB(t)
	master, slave := openPTY(t)
	typeIn(t, master, alicePassword+"\n"+alicePassword+"\n")
	r := latchRunIn(t, db, slave, "user", "add", "alice", "alice@example.com").ok(t)
	if !strings.Contains(r.errOut, "New password for alice: ") || !strings.Contains(r.errOut, "Repeat it: ") {
		t.Errorf("prompts: %q", r.errOut)
	}
	app := openApp(t, db)
	if err := authenticate(app, "alice@example.com", alicePassword); err != nil {
		t.Errorf("the prompted password does not log in: %v", err)
	}

	// Two different passwords change nothing.
	typeIn(t, master, changedPassword+"\n"+changedPassword+"x\n")
	latchRunIn(t, db, slave, "user", "passwd", "alice").fails(t, "the two passwords differ; nothing changed")
	if err := authenticate(app, "alice@example.com", alicePassword); err != nil {
		t.Errorf("password changed after a mismatch: %v", err)
	}
	typeIn(t, master, changedPassword+"\n"+changedPassword+"\n")
	latchRunIn(t, db, slave, "user", "passwd", "alice").ok(t)
	if err := authenticate(app, "alice@example.com", changedPassword); err != nil {
		t.Errorf("the new prompted password does not log in: %v", err)
	}
}

func TestPromptedPasswordInterrupted(t *testing.T) {
	// Ctrl-C at the prompt: main's signal handler cancels ctx, and the
	// command must return (with the terminal's echo back on) rather than
	// wait for a line that never comes.
	db := newDB(t)
	addAlice(t, db)
	_, slave := openPTY(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prompts := &watch{want: "New password for alice: ", seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"user", "passwd", "alice"}, env(map[string]string{"LATCH_DATABASE": db}), slave, io.Discard, prompts)
	}()
	select {
	case <-prompts.seen:
	case <-time.After(10 * time.Second):
		t.Fatal("no prompt")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the command ignores the interrupt")
	}
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if tio.Lflag&unix.ECHO == 0 {
		t.Error("echo is still off")
	}
}

// watch is a writer that closes seen once want was written to it.
type watch struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func TestDeleteConfirmation(t *testing.T) {
	db := newDB(t)
	addAlice(t, db)
	app := openApp(t, db)
	master, slave := openPTY(t)

	typeIn(t, master, "bob\n")
	r := latchRunIn(t, db, slave, "user", "delete", "alice")
	r.fails(t, "that is not alice; nothing deleted")
	if !strings.Contains(r.errOut, "Type the username to confirm: ") {
		t.Errorf("prompt: %q", r.errOut)
	}
	if _, err := app.Backend.UserByEmail(context.Background(), "alice@example.com"); err != nil {
		t.Fatalf("deleted without confirmation: %v", err)
	}
	typeIn(t, master, "alice\n")
	latchRunIn(t, db, slave, "user", "delete", "alice").ok(t)
	if _, err := app.Backend.UserByEmail(context.Background(), "alice@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("alice is still there: %v", err)
	}
}
