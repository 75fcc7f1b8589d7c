package rafthttp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// appendFrame appends m framed as on a message stream: the 8-byte big-endian
// length of the marshaled message, then the message.
func appendFrame(buf []byte, m *raftpb.Message) ([]byte, error) {
	n := proto.Size(m)
	buf = binary.BigEndian.AppendUint64(buf, uint64(n))
	out, err := proto.MarshalOptions{}.MarshalAppend(buf, m)
	if err != nil {
		return buf, fmt.Errorf("marshal raft message: %w", err)
	}
	return out, nil
}

// readFrame reads one length-prefixed message. The buffer grows with what
// actually arrives, so a lying length word costs no memory up front.
func readFrame(r io.Reader, limit uint64, scratch *bytes.Buffer) (*raftpb.Message, error) {
	var lb [8]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint64(lb[:])
	if n > limit {
		return nil, fmt.Errorf("%w: %d > %d bytes", ErrTooLarge, n, limit)
	}
	scratch.Reset()
	if got, err := io.CopyN(scratch, r, int64(n)); err != nil {
		if err == io.EOF && got < int64(n) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	m := &raftpb.Message{}
	if err := proto.Unmarshal(scratch.Bytes(), m); err != nil {
		return nil, fmt.Errorf("unmarshal raft message: %w", err)
	}
	return m, nil
}

// linkHeartbeat keeps an idle stream alive; it is never delivered to raft.
var linkHeartbeat = &raftpb.Message{Type: raftpb.MessageType_MsgHeartbeat.Enum()}

func isLinkHeartbeat(m *raftpb.Message) bool {
	return m.GetType() == raftpb.MessageType_MsgHeartbeat && m.GetFrom() == 0 && m.GetTo() == 0
}

// msgAppV2Heartbeat is the link heartbeat of etcd's msgappv2 stream encoding.
var msgAppV2Heartbeat = []byte{0}

func idString(id uint64) string { return strconv.FormatUint(id, 16) }

func parseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("parse member ID %q: %w", s, err)
	}
	return id, nil
}
