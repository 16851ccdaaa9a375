/*
 * berth-forkd SOCKET
 *
 * Berth's fork server: the liblxc calls that fork their caller run here, in a small process, not in
 * the JVM. liblxc's daemonized start forks the caller to make the container's monitor (and moves the
 * caller into lxc.monitor.<name> cgroups first); attach forks the caller to enter the container's
 * namespaces. Forking a JVM costs milliseconds of page-table copying, and a monitor forked from it
 * pins a copy-on-write image of the whole JVM for the container's lifetime. LXD runs the same calls
 * through re-executed helpers ("forkstart", "forkexec"); this server forks per request instead, so a
 * request costs one fork of a process of a few hundred kilobytes. Everything else in Berth calls
 * liblxc through Java FFM.
 *
 * Protocol: SOCK_SEQPACKET on SOCKET (created here, in a directory only root can enter). One request
 * per connection: a message of NUL-terminated fields, the first naming the operation:
 *   start  LXCPATH NAME LOGFILE
 *   clone  LXCPATH NAME NEWPATH NEWNAME FLAGS BDEVTYPE      (BDEVTYPE "" keeps the source's)
 *   spawn  LXCPATH NAME CWD UID GID TTY NENV ENV... ARGV...  with stdin, stdout, stderr as SCM_RIGHTS
 * spawn replies twice on its connection: "PID\n" once the command runs (or "-1\nERROR"), then
 * "STATUS\n" with its wait status when it ends. With TTY "1" the command starts a new session whose
 * controlling terminal is its stdin (a pty the caller made), as a login shell's would be.
 * The reply is one message "STATUS\nERROR": for start 0 (RUNNING), 1 (failed; ERROR lines are in
 * LOGFILE), 3 (not defined); for clone 0 or 1.
 * Clone forks too (it rewrites the new rootfs in a private mount namespace).
 * Prints "ready" on stdout once listening; exits when stdin reaches end-of-file (its parent is gone,
 * even if killed), removing its socket and the socket's directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <lxc/attach_options.h>
#include <lxc/lxccontainer.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REQUEST 65536
#define MAX_FIELDS 4096

static void reply(int conn, int status, const char *error)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%d\n%s", status, error ? error : "");
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	(void)send(conn, buf, n, MSG_NOSIGNAL);
}

static int do_start(int conn, char **f, int n)
{
	struct lxc_container *c;
	bool started;

	if (n != 4) {
		reply(conn, 2, "start takes LXCPATH NAME LOGFILE");
		return 2;
	}
	c = lxc_container_new(f[2], f[1]);
	if (!c) {
		reply(conn, 1, "cannot open the container");
		return 1;
	}
	if (!c->is_defined(c)) {
		lxc_container_put(c);
		reply(conn, 3, "not defined");
		return 3;
	}
	c->set_config_item(c, "lxc.log.file", f[3]);
	/* Root writes an unprivileged container's id maps itself: with newuidmap and newgidmap on PATH,
	 * liblxc runs them (each through a shell) for every map it sets up, several times per start.
	 * The agent takes ranges only from root's subordinate ids (the check those helpers make), and
	 * liblxc gives the container's init an environment of its own, so nothing else sees this PATH. */
	setenv("PATH", "/usr/local/sbin:/usr/sbin:/sbin", 1);
	c->want_daemonize(c, true);
	c->want_close_all_fds(c, true);
	started = c->start(c, 0, NULL);
	reply(conn, started ? 0 : 1, started ? NULL : c->error_string);
	lxc_container_put(c);
	return started ? 0 : 1;
}

struct spawn_payload {
	char **argv;
	int tty;
};

/* Runs inside the container, after liblxc has entered its namespaces and set up the environment. */
static int exec_command(void *data)
{
	struct spawn_payload *p = data;

	if (p->tty) {
		(void)setsid();
		(void)ioctl(STDIN_FILENO, TIOCSCTTY, 0);
	}
	execvp(p->argv[0], p->argv);
	fprintf(stderr, "%s: %s\n", p->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int do_spawn(int conn, char **f, int n, int fds[3])
{
	lxc_attach_options_t options = LXC_ATTACH_OPTIONS_DEFAULT;
	struct spawn_payload payload;
	struct lxc_container *c;
	char **env, **argv;
	int nenv, status;
	pid_t pid;

	if (n < 9 || (nenv = atoi(f[7])) < 0 || 8 + nenv >= n) {
		reply(conn, -1, "spawn takes LXCPATH NAME CWD UID GID TTY NENV ENV... ARGV...");
		return 2;
	}
	env = calloc(nenv + 1, sizeof(char *));
	argv = calloc(n - 8 - nenv + 1, sizeof(char *));
	if (!env || !argv) {
		reply(conn, -1, "out of memory");
		return 1;
	}
	memcpy(env, f + 8, nenv * sizeof(char *));
	memcpy(argv, f + 8 + nenv, (n - 8 - nenv) * sizeof(char *));
	c = lxc_container_new(f[2], f[1]);
	if (!c) {
		reply(conn, -1, "cannot open the container");
		return 1;
	}
	options.env_policy = LXC_ATTACH_CLEAR_ENV;
	options.extra_env_vars = env;
	options.initial_cwd = f[3][0] ? f[3] : NULL;
	options.uid = (uid_t)atol(f[4]);
	options.gid = (gid_t)atol(f[5]);
	options.stdin_fd = fds[0];
	options.stdout_fd = fds[1];
	options.stderr_fd = fds[2];
	payload.argv = argv;
	payload.tty = strcmp(f[6], "1") == 0;
	if (c->attach(c, exec_command, &payload, &options, &pid) < 0) {
		reply(conn, -1, c->error_string ? c->error_string : "cannot attach to the container (is it running?)");
		lxc_container_put(c);
		return 1;
	}
	/* Our copies of the stdio fds go now, so that the caller sees end-of-file when the command is done. */
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
	reply(conn, (int)pid, NULL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	reply(conn, status, NULL);
	lxc_container_put(c);
	return 0;
}

static int do_clone(int conn, char **f, int n)
{
	struct lxc_container *c, *copy;

	if (n != 7) {
		reply(conn, 2, "clone takes LXCPATH NAME NEWPATH NEWNAME FLAGS BDEVTYPE");
		return 2;
	}
	c = lxc_container_new(f[2], f[1]);
	if (!c) {
		reply(conn, 1, "cannot open the container");
		return 1;
	}
	copy = c->clone(c, f[4], f[3], atoi(f[5]), f[6][0] ? f[6] : NULL, NULL, 0, NULL);
	reply(conn, copy ? 0 : 1, copy ? NULL : c->error_string);
	if (copy)
		lxc_container_put(copy);
	lxc_container_put(c);
	return copy ? 0 : 1;
}

/* One request: runs in a child of the server, so the server never forks a container or moves cgroups. */
static int serve(int conn)
{
	static char buf[MAX_REQUEST + 1];
	char control[CMSG_SPACE(3 * sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = MAX_REQUEST};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cmsg;
	char *fields[MAX_FIELDS];
	int fds[3] = {-1, -1, -1}, n = 0;
	ssize_t len;

	len = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	if (len <= 0 || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		return 2;
	buf[len] = '\0';
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		    cmsg->cmsg_len == CMSG_LEN(3 * sizeof(int)))
			memcpy(fds, CMSG_DATA(cmsg), sizeof(fds));
	for (char *p = buf; p < buf + len && n < MAX_FIELDS; p += strlen(p) + 1)
		fields[n++] = p;
	if (n > 0 && strcmp(fields[0], "start") == 0)
		return do_start(conn, fields, n);
	if (n > 0 && strcmp(fields[0], "spawn") == 0 && fds[2] >= 0)
		return do_spawn(conn, fields, n, fds);
	if (n > 0 && strcmp(fields[0], "clone") == 0)
		return do_clone(conn, fields, n);
	reply(conn, -1, "unknown request");
	return 2;
}

int main(int argc, char *argv[])
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct sigaction ignore = {.sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT};
	int listener;

	if (argc != 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: berth-forkd SOCKET\n");
		return 2;
	}
	sigaction(SIGCHLD, &ignore, NULL); /* children are reaped by the kernel */
	fcntl(STDIN_FILENO, F_SETFD, FD_CLOEXEC);
	strcpy(addr.sun_path, argv[1]);
	unlink(argv[1]);
	listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chmod(argv[1], 0600) < 0 || listen(listener, 64) < 0) {
		perror("berth-forkd: cannot listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd pfd[2] = {{.fd = listener, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};
		int conn;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents) {
			char c;
			if (read(STDIN_FILENO, &c, 1) <= 0)
				break; /* the agent is gone */
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		if (fork() == 0) {
			/* The monitor and attach wait for their children: give them back SIGCHLD. */
			struct sigaction deflt = {.sa_handler = SIG_DFL};
			sigaction(SIGCHLD, &deflt, NULL);
			close(listener);
			_exit(serve(conn));
		}
		close(conn);
	}
	unlink(argv[1]);
	rmdir(dirname(argv[1])); /* the private directory the agent made for the socket, if now empty */
	return 0;
}
