package backend

import "syscall"

// mmapFlags pre-faults the mapped file like etcd does on Linux.
const mmapFlags = syscall.MAP_POPULATE
