package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// 2013-style flags, as in the original etcd's `./etcd -c 4002 -s 7002 -C
// 127.0.0.1:7001 -d nod/node2`:
//
//	-c  client address (port or host:port): listen and advertise client URL
//	-s  peer address (port or host:port): listen and advertise peer URL
//	-C  comma-separated peers to join (JoinPeers)
//	-d  data directory (short form of --data-dir)
//	-n  name (short form of --name)
//	-f  force a new member over an old data directory (ForceNewMember)
//
// -c, -s, -C and -f cannot be combined with etcd's flags. -d and -n are
// plain short forms and combine with anything except their long form.

// legacyOnly are the 2013-style flags that make a command line 2013-style.
var legacyOnly = []string{legacyClient, legacyPeer, legacyJoin, legacyForce}

// shortForms maps the short forms to their long flags.
var shortForms = map[string]string{legacyDataDir: "data-dir", legacyName: "name"}

// checkMixing rejects command lines that combine 2013-style flags with etcd's
// flags, or a short form with its long form.
func checkMixing(cmdline map[string]bool) error {
	for short, long := range shortForms {
		if cmdline[short] && cmdline[long] {
			return fmt.Errorf("flags -%s and --%s both given: -%s is the short form of --%s, use one of them", short, long, short, long)
		}
	}
	var old string
	for _, n := range legacyOnly {
		if cmdline[n] {
			old = n
			break
		}
	}
	if old == "" {
		return nil
	}
	for _, n := range sortedKeys(cmdline) {
		if legacyFlags[n] {
			continue
		}
		return fmt.Errorf("cannot mix the 2013-style flag -%s with the flag --%s: use either the 2013-style flags (-c, -s, -C, -d, -n, -f) or etcd's flags", old, n)
	}
	return nil
}

// applyLegacy applies the 2013-style flags given on the command line.
func (v *flagValues) applyLegacy(c *Config, cmdline map[string]bool) error {
	for _, n := range legacyOnly {
		if cmdline[n] {
			c.Legacy = true
		}
	}
	if cmdline[legacyName] {
		c.Name = v.lName
	}
	if cmdline[legacyDataDir] {
		c.DataDir = v.lDataDir
	}
	if cmdline[legacyClient] {
		u, err := legacyAddress(v.lClient)
		if err != nil {
			return fmt.Errorf("invalid value %q for flag -c: %w", v.lClient, err)
		}
		c.ListenClientURLs = []url.URL{*u}
		c.AdvertiseClientURLs = []url.URL{*u}
	}
	if cmdline[legacyPeer] {
		u, err := legacyAddress(v.lPeer)
		if err != nil {
			return fmt.Errorf("invalid value %q for flag -s: %w", v.lPeer, err)
		}
		c.ListenPeerURLs = []url.URL{*u}
		c.InitialAdvertisePeerURLs = []url.URL{*u}
	}
	if cmdline[legacyJoin] {
		for _, p := range strings.Split(v.lJoin, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			u, err := legacyAddress(p)
			if err != nil {
				return fmt.Errorf("invalid value %q for flag -C: %w", v.lJoin, err)
			}
			c.JoinPeers = append(c.JoinPeers, u.String())
		}
		if len(c.JoinPeers) == 0 {
			return fmt.Errorf("invalid value %q for flag -C: no peers given", v.lJoin)
		}
		// A joining member without -n is named after its peer address
		// ("127.0.0.1:7002"), unique in its cluster.
		if !cmdline[legacyName] && c.Name == DefaultName && len(c.InitialAdvertisePeerURLs) > 0 {
			c.Name = c.InitialAdvertisePeerURLs[0].Host
		}
	}
	c.ForceNewMember = v.lForce
	return nil
}

// legacyAddress turns a 2013-style address into a URL: "4001" is
// http://127.0.0.1:4001, "host:4001" is http://host:4001; a full http(s) URL
// is accepted as is.
func legacyAddress(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "://") {
		return ParseURL(s)
	}
	host, port := "127.0.0.1", s
	if strings.Contains(s, ":") {
		h, p, err := net.SplitHostPort(s)
		if err != nil {
			return nil, errors.New(`address must be a port or "host:port"`)
		}
		host, port = h, p
		if host == "" {
			host = "127.0.0.1"
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("invalid port %q", port)
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}, nil
}
