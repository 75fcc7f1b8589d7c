// Package wal is the write-ahead log of an etcd member. It reads and writes
// the same on-disk format as etcd (v3.x), so a data directory can move
// between this implementation and etcd in either direction.
//
// # Directory
//
// The log lives in <data-dir>/member/wal as a sequence of segment files named
// "%016x-%016x.wal" (sequence number, raft index of the first entry the
// segment may hold). Sequence numbers increase by one per segment. Each
// segment is preallocated to segmentSizeBytes (64,000,000 bytes, etcd's
// value) so that appends do not change the file size; the unused tail is
// zero. The next segment is prepared ahead of time by a background pipeline
// as "0.tmp" / "1.tmp" and renamed into place when the log is cut. Create
// builds a new log in "<dir>.tmp" and renames it, fsyncing the parent, so a
// half-built log never looks like a real one.
//
// # Records
//
// A segment is a stream of frames. A frame is an 8-byte little-endian length
// word followed by a marshaled walpb.Record and zero padding up to 8-byte
// alignment. The low 56 bits of the length word hold the record length
// without padding; when padding is present the top bit is set and the pad
// byte count (1-7) is held in the low three bits of the top byte. A length
// word of zero marks the end of the written part of a segment.
//
// walpb.Record is a proto2 message {type int64 = 1; crc uint32 = 2;
// data bytes = 3}. type and crc are always written (even when zero); data is
// written when non-nil. Record types:
//
//	1 metadata  opaque bytes given to Create (etcd: etcdserverpb.Metadata)
//	2 entry     marshaled raftpb.Entry
//	3 state     marshaled raftpb.HardState
//	4 crc       no data; crc holds the running CRC at the segment start
//	5 snapshot  walpb.Snapshot{index uint64 = 1; term uint64 = 2;
//	            conf_state raftpb.ConfState = 3} (index, term always written)
//
// The CRC is CRC-32 Castagnoli, chained over the whole log: the crc field of
// each non-crc record is crc32.Update(previous, castagnoli, data). Every
// segment begins with a crc record carrying the running CRC of the previous
// segment (0 for the very first), followed by a metadata record and, for a
// cut segment, the latest non-empty hard state. A brand-new log starts with
// crc(0), metadata and an empty snapshot record (index 0, term 0).
//
// # Recovery
//
// ReadAll decodes every segment from the one holding the requested snapshot
// onward. Damage at the end of the last segment (a partial record, a record
// with a zeroed sector, or a final record whose CRC does not match) is a torn
// write that was never acknowledged: the segment is copied to "<name>.broken",
// truncated after the last good record, re-zeroed and the WAL continues.
// Damage anywhere else is reported as a *CorruptError naming the file and byte
// offset.
//
// # Locking and purging
//
// Every segment the WAL may still need is held open with an exclusive flock,
// so a second process cannot append to the same log, and Purge (which only
// removes segments it can lock) never removes a segment in use. ReleaseLockTo
// drops the locks of segments wholly below a raft index.
package wal
