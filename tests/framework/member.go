package framework

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// MemberConfig describes one etcd member. Zero fields get defaults.
type MemberConfig struct {
	// Bin is the etcd executable; empty means EtcdBinary(t).
	Bin string
	// Name is --name; empty means "m0".
	Name string
	// DataDir is --data-dir; empty means a fresh temporary directory.
	DataDir string
	// ClientPort and PeerPort are the 127.0.0.1 ports; 0 means a free one.
	ClientPort, PeerPort int
	// InitialCluster is --initial-cluster; empty means this member alone.
	InitialCluster string
	// InitialClusterState is --initial-cluster-state; empty means "new".
	InitialClusterState string
	// InitialClusterToken is --initial-cluster-token; empty leaves etcd's
	// default.
	InitialClusterToken string
	// ExtraArgs are appended after the generated flags.
	ExtraArgs []string
	// Env is appended to the environment.
	Env []string
	// ReadyTimeout bounds the wait for readiness; 0 means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// Member is an etcd process with known URLs and data directory.
type Member struct {
	*Process
	Name      string
	DataDir   string
	ClientURL string
	PeerURL   string
}

// NewMember allocates ports and a data directory and prepares the process
// without starting it.
func NewMember(t testing.TB, cfg MemberConfig) *Member {
	t.Helper()
	if cfg.Bin == "" {
		cfg.Bin = EtcdBinary(t)
	}
	if cfg.Name == "" {
		cfg.Name = "m0"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = filepath.Join(t.TempDir(), cfg.Name+".etcd")
	}
	if cfg.ClientPort == 0 {
		cfg.ClientPort = FreePort(t)
	}
	if cfg.PeerPort == 0 {
		cfg.PeerPort = FreePort(t)
	}
	m := &Member{
		Name:      cfg.Name,
		DataDir:   cfg.DataDir,
		ClientURL: fmt.Sprintf("http://127.0.0.1:%d", cfg.ClientPort),
		PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", cfg.PeerPort),
	}
	if cfg.InitialCluster == "" {
		cfg.InitialCluster = m.Name + "=" + m.PeerURL
	}
	if cfg.InitialClusterState == "" {
		cfg.InitialClusterState = "new"
	}
	args := []string{
		"--name", m.Name,
		"--data-dir", m.DataDir,
		"--listen-client-urls", m.ClientURL,
		"--advertise-client-urls", m.ClientURL,
		"--listen-peer-urls", m.PeerURL,
		"--initial-advertise-peer-urls", m.PeerURL,
		"--initial-cluster", cfg.InitialCluster,
		"--initial-cluster-state", cfg.InitialClusterState,
	}
	if cfg.InitialClusterToken != "" {
		args = append(args, "--initial-cluster-token", cfg.InitialClusterToken)
	}
	args = append(args, cfg.ExtraArgs...)
	m.Process = NewProcess(t, ProcessConfig{
		Name:         cfg.Name,
		Bin:          cfg.Bin,
		Args:         args,
		Env:          cfg.Env,
		ReadyTimeout: cfg.ReadyTimeout,
	})
	return m
}

// StartMember starts a member and waits until it is ready; it fails the
// test otherwise.
func StartMember(t testing.TB, cfg MemberConfig) *Member {
	t.Helper()
	m := NewMember(t, cfg)
	if err := m.Start(); err != nil {
		t.Fatalf("starting member %s: %v", m.Name, err)
	}
	return m
}

// Endpoints returns the member's client URLs.
func (m *Member) Endpoints() []string { return []string{m.ClientURL} }

// ClientAddr returns the client host:port.
func (m *Member) ClientAddr() string { return strings.TrimPrefix(m.ClientURL, "http://") }

// PeerAddr returns the peer host:port.
func (m *Member) PeerAddr() string { return strings.TrimPrefix(m.PeerURL, "http://") }

// StartCluster starts n members of one new cluster with binary bin (empty
// means EtcdBinary(t)) and waits until all are ready.
func StartCluster(t testing.TB, bin string, n int, extraArgs ...string) []*Member {
	t.Helper()
	type ports struct{ client, peer int }
	ps := make([]ports, n)
	var parts []string
	for i := range ps {
		ps[i] = ports{FreePort(t), FreePort(t)}
		parts = append(parts, fmt.Sprintf("m%d=http://127.0.0.1:%d", i, ps[i].peer))
	}
	initial := strings.Join(parts, ",")
	members := make([]*Member, n)
	for i := range members {
		members[i] = NewMember(t, MemberConfig{
			Bin:                 bin,
			Name:                fmt.Sprintf("m%d", i),
			ClientPort:          ps[i].client,
			PeerPort:            ps[i].peer,
			InitialCluster:      initial,
			InitialClusterToken: "e2e-cluster",
			ExtraArgs:           extraArgs,
		})
	}
	for _, m := range members {
		if err := m.StartNoWait(); err != nil {
			t.Fatalf("starting %s: %v", m.Name, err)
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.WaitReady(m.cfg.ReadyTimeout)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("starting cluster: %v", err)
		}
	}
	return members
}

// ClusterEndpoints returns the client URLs of members.
func ClusterEndpoints(members []*Member) []string {
	var eps []string
	for _, m := range members {
		eps = append(eps, m.ClientURL)
	}
	return eps
}

// Reincarnate prepares the member's next runs to start as a new member of
// a running cluster: on the fresh data directory dataDir, with
// --initial-cluster-state existing and --initial-cluster initialCluster
// (name=peerURL pairs of the current members, this one included). Ports,
// name and every other flag stay.
func (m *Member) Reincarnate(dataDir, initialCluster string) {
	args := m.Args()
	set := func(flag, value string) {
		for i := 0; i+1 < len(args); i++ {
			if args[i] == flag {
				args[i+1] = value
			}
		}
	}
	set("--data-dir", dataDir)
	set("--initial-cluster", initialCluster)
	set("--initial-cluster-state", "existing")
	m.SetArgs(args)
	m.DataDir = dataDir
}
