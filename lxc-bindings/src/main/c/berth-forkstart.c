/*
 * berth-forkstart LXCPATH NAME LOGFILE
 *
 * Starts one defined container, daemonized, from this small process instead of the JVM. liblxc's
 * daemonized start forks its caller to make the container's monitor and first moves the caller into
 * lxc.monitor.<name> cgroups; done from the JVM, every monitor would be a copy-on-write fork of the
 * whole JVM heap and the JVM would be moved between cgroups on every start. LXD's "forkstart" exists
 * for the same reason. Everything else in Berth calls liblxc through Java FFM.
 *
 * Exit status: 0 started (RUNNING), 1 start failed (ERROR lines are in LOGFILE), 2 usage, 3 not defined.
 */
#include <lxc/lxccontainer.h>
#include <stdio.h>

int main(int argc, char *argv[])
{
	struct lxc_container *c;
	bool started;

	if (argc != 4) {
		fprintf(stderr, "usage: berth-forkstart LXCPATH NAME LOGFILE\n");
		return 2;
	}
	c = lxc_container_new(argv[2], argv[1]);
	if (!c) {
		fprintf(stderr, "cannot open container %s in %s\n", argv[2], argv[1]);
		return 1;
	}
	if (!c->is_defined(c)) {
		lxc_container_put(c);
		return 3;
	}
	c->set_config_item(c, "lxc.log.file", argv[3]);
	c->want_daemonize(c, true);
	c->want_close_all_fds(c, true);
	started = c->start(c, 0, NULL);
	if (!started && c->error_string)
		fprintf(stderr, "%s\n", c->error_string);
	lxc_container_put(c);
	return started ? 0 : 1;
}
