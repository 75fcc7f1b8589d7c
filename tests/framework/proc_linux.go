package framework

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the child die with the test binary.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
