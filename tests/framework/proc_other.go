//go:build !linux

package framework

import "os/exec"

func setProcAttr(cmd *exec.Cmd) {}
