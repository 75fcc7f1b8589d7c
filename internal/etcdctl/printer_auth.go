package etcdctl

import (
	"fmt"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// rootRole is the role that, without permissions, can read and write
// everything.
const rootRole = "root"

// headerOnly prints a response that carries nothing but its header: a line
// in the simple format, the header in fields, the message in json and
// protobuf.
func (p *printer) headerOnly(simple string, h *pb.ResponseHeader, msg any) error {
	switch p.format {
	case formatSimple:
		fmt.Fprintln(p.w, simple)
	case formatFields:
		p.hdr(h)
	default:
		return p.rpc(msg)
	}
	return nil
}

func (p *printer) RoleAdd(role string, r *clientv3.AuthRoleAddResponse) error {
	resp := (*pb.AuthRoleAddResponse)(r)
	return p.headerOnly(fmt.Sprintf("Role %s created", role), resp.GetHeader(), resp)
}

func (p *printer) RoleDelete(role string, r *clientv3.AuthRoleDeleteResponse) error {
	resp := (*pb.AuthRoleDeleteResponse)(r)
	return p.headerOnly(fmt.Sprintf("Role %s deleted", role), resp.GetHeader(), resp)
}

func (p *printer) RoleGrantPermission(role string, r *clientv3.AuthRoleGrantPermissionResponse) error {
	resp := (*pb.AuthRoleGrantPermissionResponse)(r)
	return p.headerOnly(fmt.Sprintf("Role %s updated", role), resp.GetHeader(), resp)
}

func (p *printer) RoleRevokePermission(role, key, end string, r *clientv3.AuthRoleRevokePermissionResponse) error {
	resp := (*pb.AuthRoleRevokePermissionResponse)(r)
	var s string
	switch {
	case end == "":
		s = fmt.Sprintf("Permission of key %s is revoked from role %s", key, role)
	case end != "\x00":
		s = fmt.Sprintf("Permission of range [%s, %s) is revoked from role %s", key, end, role)
	default:
		s = fmt.Sprintf("Permission of range [%s, <open ended> is revoked from role %s", key, role)
	}
	return p.headerOnly(s, resp.GetHeader(), resp)
}

func (p *printer) RoleGet(role string, r *clientv3.AuthRoleGetResponse) error {
	resp := (*pb.AuthRoleGetResponse)(r)
	switch p.format {
	case formatSimple:
		p.simpleRoleGet(role, resp)
	case formatFields:
		p.hdr(resp.GetHeader())
		for _, perm := range resp.GetPerm() {
			fmt.Fprintln(p.w, `"PermType" : `, perm.GetPermType().String())
			fmt.Fprintf(p.w, "\"Key\" : %q\n", string(perm.GetKey()))
			fmt.Fprintf(p.w, "\"RangeEnd\" : %q\n", string(perm.GetRangeEnd()))
		}
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) simpleRoleGet(role string, resp *pb.AuthRoleGetResponse) {
	fmt.Fprintf(p.w, "Role %s\n", role)
	if role == rootRole && resp.GetPerm() == nil {
		fmt.Fprintln(p.w, "KV Read:")
		fmt.Fprintln(p.w, "\t[, <open ended>")
		fmt.Fprintln(p.w, "KV Write:")
		fmt.Fprintln(p.w, "\t[, <open ended>")
		return
	}
	printPerm := func(perm *authpb.Permission) {
		if len(perm.GetRangeEnd()) == 0 {
			fmt.Fprintf(p.w, "\t%s\n", perm.GetKey())
			return
		}
		key, end := string(perm.GetKey()), string(perm.GetRangeEnd())
		if end != "\x00" {
			fmt.Fprintf(p.w, "\t[%s, %s)", key, end)
		} else {
			fmt.Fprintf(p.w, "\t[%s, <open ended>", key)
		}
		if clientv3.GetPrefixRangeEnd(key) == end && key != "" {
			fmt.Fprintf(p.w, " (prefix %s)", key)
		}
		fmt.Fprint(p.w, "\n")
	}
	fmt.Fprintln(p.w, "KV Read:")
	for _, perm := range resp.GetPerm() {
		if perm.GetPermType() == authpb.Permission_READ || perm.GetPermType() == authpb.Permission_READWRITE {
			printPerm(perm)
		}
	}
	fmt.Fprintln(p.w, "KV Write:")
	for _, perm := range resp.GetPerm() {
		if perm.GetPermType() == authpb.Permission_WRITE || perm.GetPermType() == authpb.Permission_READWRITE {
			printPerm(perm)
		}
	}
}

func (p *printer) RoleList(r *clientv3.AuthRoleListResponse) error {
	resp := (*pb.AuthRoleListResponse)(r)
	switch p.format {
	case formatSimple:
		for _, role := range resp.GetRoles() {
			fmt.Fprintf(p.w, "%s\n", role)
		}
	case formatFields:
		p.hdr(resp.GetHeader())
		fmt.Fprint(p.w, `"Roles" :`)
		for _, role := range resp.GetRoles() {
			fmt.Fprintf(p.w, " %q", role)
		}
		fmt.Fprintln(p.w)
	default:
		return p.rpc(resp)
	}
	return nil
}

func (p *printer) UserAdd(user string, r *clientv3.AuthUserAddResponse) error {
	resp := (*pb.AuthUserAddResponse)(r)
	return p.headerOnly(fmt.Sprintf("User %s created", user), resp.GetHeader(), resp)
}

func (p *printer) UserDelete(user string, r *clientv3.AuthUserDeleteResponse) error {
	resp := (*pb.AuthUserDeleteResponse)(r)
	return p.headerOnly(fmt.Sprintf("User %s deleted", user), resp.GetHeader(), resp)
}

func (p *printer) UserChangePassword(r *clientv3.AuthUserChangePasswordResponse) error {
	resp := (*pb.AuthUserChangePasswordResponse)(r)
	return p.headerOnly("Password updated", resp.GetHeader(), resp)
}

func (p *printer) UserGrantRole(user, role string, r *clientv3.AuthUserGrantRoleResponse) error {
	resp := (*pb.AuthUserGrantRoleResponse)(r)
	return p.headerOnly(fmt.Sprintf("Role %s is granted to user %s", role, user), resp.GetHeader(), resp)
}

func (p *printer) UserRevokeRole(user, role string, r *clientv3.AuthUserRevokeRoleResponse) error {
	resp := (*pb.AuthUserRevokeRoleResponse)(r)
	return p.headerOnly(fmt.Sprintf("Role %s is revoked from user %s", role, user), resp.GetHeader(), resp)
}

func (p *printer) UserGet(user string, r *clientv3.AuthUserGetResponse) error {
	resp := (*pb.AuthUserGetResponse)(r)
	if p.format != formatSimple {
		return p.rpc(resp)
	}
	fmt.Fprintf(p.w, "User: %s\n", user)
	fmt.Fprint(p.w, "Roles:")
	for _, role := range resp.GetRoles() {
		fmt.Fprintf(p.w, " %s", role)
	}
	fmt.Fprint(p.w, "\n")
	return nil
}

func (p *printer) UserList(r *clientv3.AuthUserListResponse) error {
	resp := (*pb.AuthUserListResponse)(r)
	if p.format != formatSimple {
		return p.rpc(resp)
	}
	for _, u := range resp.GetUsers() {
		fmt.Fprintf(p.w, "%s\n", u)
	}
	return nil
}

func (p *printer) AuthStatus(r *clientv3.AuthStatusResponse) error {
	resp := (*pb.AuthStatusResponse)(r)
	if p.format != formatSimple {
		return p.rpc(resp)
	}
	fmt.Fprintln(p.w, "Authentication Status:", resp.GetEnabled())
	fmt.Fprintln(p.w, "AuthRevision:", resp.GetAuthRevision())
	return nil
}
