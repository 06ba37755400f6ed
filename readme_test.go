package latch_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeQuickstart: the README's "library in five minutes" is
// examples/quickstart/main.go, which CI builds and tests, word for word.
func TestReadmeQuickstart(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	program, err := os.ReadFile("examples/quickstart/main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## The library in five minutes\n")
	if !ok {
		t.Fatal(`README.md has no "## The library in five minutes" section`)
	}
	_, block, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal("the section has no Go code block")
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok {
		t.Fatal("the section's Go code block does not end")
	}
	if block != string(program) {
		t.Error("the README's code block is not examples/quickstart/main.go: copy the file into it")
	}
}
