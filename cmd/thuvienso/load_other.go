//go:build !linux

package main

import "os/exec"

// killWithParent does nothing where the kernel cannot kill a child with
// its parent; the load test stops its children itself.
func killWithParent(*exec.Cmd) {}
