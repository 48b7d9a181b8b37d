package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The layout the README's Development section draws, checked: data flows
// one way, the vocabulary is a leaf, the store sits below the engine, the
// operations layer sits below every surface, and the binary does not link
// package testing (mocktest is a package of its own).
func TestLayers(t *testing.T) {
	const mod = "github.com/bullseye-mock/bullseye-mock/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		for _, d := range strings.Fields(deps) {
			if rest, ok := strings.CutPrefix(d, mod); ok {
				imports[strings.TrimPrefix(pkg, mod)] = append(imports[strings.TrimPrefix(pkg, mod)], rest)
			}
		}
	}
	allowed := map[string][]string{
		"bullseye": nil,
		"clock":    nil,
		"store":    {"bullseye"},
		"journal":  {"bullseye"},
		"apifault": {"journal"},
		"fixtures": {"bullseye"},
		"traffic":  nil,
		"feed":     nil,
		"sender":   {"bullseye", "clock", "feed", "traffic"},
		"ops":      {"apifault", "bullseye", "clock", "feed", "fixtures", "journal", "sender", "store", "traffic"},
		"check":    {"bullseye", "fixtures", "junit"},
		"junit":    nil,
	}
	for pkg, may := range allowed {
		for _, d := range imports[pkg] {
			if !slices.Contains(may, d) {
				t.Errorf("%s imports %s; it may import only %v", pkg, d, may)
			}
		}
	}
	for _, pkg := range []string{"scenarios", "server"} {
		for _, d := range imports[pkg] {
			if d == "mock" || d == "mocktest" || d == "cli" {
				t.Errorf("%s imports %s: surfaces sit on ops, not on the assembly", pkg, d)
			}
		}
	}
	deps, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(strings.Fields(string(deps)), "testing") {
		t.Error("the binary links package testing")
	}
}
