package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"
)

// ErrUnsetAdvertiseClientURLs is etcd's error for an explicit
// --listen-client-urls without --advertise-client-urls.
var ErrUnsetAdvertiseClientURLs = errors.New("--advertise-client-urls is required when --listen-client-urls is set explicitly")

// validLogLevels are the levels etcd (zap) accepts.
var validLogLevels = map[string]bool{
	"debug": true, "info": true, "warn": true, "error": true, "dpanic": true, "panic": true, "fatal": true,
}

// Validate checks the configuration with etcd's rules and messages: URL
// forms, timing, logging, and that --initial-cluster names this member with
// exactly its advertised peer URLs.
//
// Note: etcd checks the initial cluster only when bootstrapping (no WAL yet);
// this checks it always.
func (c *Config) Validate() error {
	for _, l := range []struct {
		flag string
		urls []url.URL
		bind bool
	}{
		{"--listen-peer-urls", c.ListenPeerURLs, true},
		{"--listen-client-urls", c.ListenClientURLs, true},
		{"--initial-advertise-peer-urls", c.InitialAdvertisePeerURLs, false},
		{"--advertise-client-urls", c.AdvertiseClientURLs, false},
	} {
		for i := range l.urls {
			if _, err := ParseURL(l.urls[i].String()); err != nil {
				return fmt.Errorf("%s: %w", l.flag, err)
			}
			if l.bind {
				if err := checkBindURL(&l.urls[i]); err != nil {
					return err
				}
			} else if l.urls[i].Hostname() == "" {
				return fmt.Errorf(`%s %q must be "host:port" (unexpected empty host (%s))`, l.flag, urlsString(l.urls), l.urls[i].String())
			}
		}
	}
	if len(c.ListenPeerURLs) == 0 {
		return errors.New("--listen-peer-urls must not be empty")
	}
	if len(c.ListenClientURLs) == 0 {
		return errors.New("--listen-client-urls must not be empty")
	}
	if len(c.InitialAdvertisePeerURLs) == 0 {
		return errors.New("--initial-advertise-peer-urls must not be empty")
	}
	if c.InitialClusterState != ClusterStateNew && c.InitialClusterState != ClusterStateExisting {
		return fmt.Errorf("unexpected clusterState %q", c.InitialClusterState)
	}
	tickMs, electionMs := c.HeartbeatInterval/time.Millisecond, c.ElectionTimeout/time.Millisecond
	if tickMs <= 0 {
		return fmt.Errorf("--heartbeat-interval must be >0 (set to %dms)", tickMs)
	}
	if electionMs <= 0 {
		return fmt.Errorf("--election-timeout must be >0 (set to %dms)", electionMs)
	}
	if 5*tickMs > electionMs {
		return fmt.Errorf("--election-timeout[%vms] should be at least as 5 times as --heartbeat-interval[%vms]", int64(electionMs), int64(tickMs))
	}
	if electionMs > maxElectionMs {
		return fmt.Errorf("--election-timeout[%vms] is too long, and should be set less than %vms", int64(electionMs), maxElectionMs)
	}
	if len(c.AdvertiseClientURLs) == 0 {
		return ErrUnsetAdvertiseClientURLs
	}
	if c.Logger != "" && c.Logger != DefaultLogger {
		return fmt.Errorf("unknown logger option %q", c.Logger)
	}
	if !validLogLevels[c.LogLevel] {
		return fmt.Errorf("unknown log-level %q (supported: debug, info, warn, error, dpanic, panic, fatal)", c.LogLevel)
	}
	if len(c.LogOutputs) == 0 {
		return errors.New("--log-outputs must not be empty")
	}
	for _, o := range c.LogOutputs {
		if o == "systemd/journal" {
			return errors.New(`--log-outputs "systemd/journal" is not supported; use "stderr", "stdout" or a file path`)
		}
	}
	if c.MaxLearners < 0 {
		return fmt.Errorf("--max-learners must be >=0 (set to %d)", c.MaxLearners)
	}
	return c.verifyInitialCluster()
}

// checkBindURL is etcd's rule for listen URLs: the host is an IP or
// "localhost".
func checkBindURL(u *url.URL) error {
	host, _, err := net.SplitHostPort(u.Host)
	if err != nil {
		return err
	}
	if host == "localhost" || net.ParseIP(host) != nil {
		return nil
	}
	return fmt.Errorf("expected IP in URL for binding (%s)", u.String())
}

// InitialClusterMap parses InitialCluster ("name=url,name=url,...") into
// member name -> peer URLs (sorted). A name may appear more than once.
func (c *Config) InitialClusterMap() (map[string][]url.URL, error) {
	m := map[string][]url.URL{}
	for _, item := range strings.Split(c.InitialCluster, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, raw, ok := strings.Cut(item, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("invalid --initial-cluster %q: %q is not of the form name=url", c.InitialCluster, item)
		}
		u, err := ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid --initial-cluster %q: %w", c.InitialCluster, err)
		}
		m[name] = append(m[name], *u)
	}
	for _, us := range m {
		sort.Slice(us, func(i, j int) bool { return us[i].String() < us[j].String() })
	}
	return m, nil
}

// verifyInitialCluster applies etcd's bootstrap checks to the initial
// cluster: it must name this member, with exactly the advertised peer URLs
// (when bootstrapping a new cluster), and no URL may appear twice.
func (c *Config) verifyInitialCluster() error {
	m, err := c.InitialClusterMap()
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return errors.New("initial cluster unset and no discovery URL found")
	}
	seen := map[string]bool{}
	for _, us := range m {
		for _, u := range us {
			if seen[u.String()] {
				return fmt.Errorf("initial cluster %s has duplicate url", c.InitialCluster)
			}
			seen[u.String()] = true
		}
	}
	urls, ok := m[c.Name]
	if !ok {
		return fmt.Errorf("couldn't find local name %q in the initial cluster configuration", c.Name)
	}
	if c.InitialClusterState != ClusterStateNew {
		return nil
	}
	initSet, apSet := map[string]bool{}, map[string]bool{}
	var ap []string
	for _, u := range urls {
		initSet[u.String()] = true
	}
	for _, u := range c.InitialAdvertisePeerURLs {
		apSet[u.String()] = true
		ap = append(ap, u.String())
	}
	sort.Strings(ap)
	var missing []string
	for u := range initSet {
		if !apSet[u] {
			missing = append(missing, c.Name+"="+u)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("--initial-cluster has %s but missing from --initial-advertise-peer-urls=%s (%q != %q)",
			strings.Join(missing, ","), strings.Join(ap, ","), ap, urlsStrings(urls))
	}
	for u := range apSet {
		if !initSet[u] {
			missing = append(missing, u)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		self := make([]string, len(ap))
		for i, u := range ap {
			self[i] = c.Name + "=" + u
		}
		return fmt.Errorf("--initial-advertise-peer-urls has %s but missing from --initial-cluster=%s",
			strings.Join(missing, ","), strings.Join(self, ","))
	}
	return nil
}

func urlsStrings(us []url.URL) []string {
	ss := make([]string, len(us))
	for i := range us {
		ss[i] = us[i].String()
	}
	return ss
}
