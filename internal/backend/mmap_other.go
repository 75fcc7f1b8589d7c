//go:build !linux

package backend

const mmapFlags = 0
