/*
 * Starting an execution environment's process.
 *
 * The child starts clean: every signal unblocked and at its default (worker threads
 * block SIGTERM and the server ignores SIGPIPE, and both would survive exec), no
 * descriptor but stdin (/dev/null), stdout and stderr (the log socket), a session of
 * its own (so that a kill reaches what it started), and death with the thread that
 * started it. Between fork and exec it only makes system calls: the parent has
 * threads, and any of them may hold a lock that malloc or stdio would wait on forever.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "functions/process/process.h"

/* what failed in the child, written to its stderr (the function's log) before it exits */
static void child_fail(const char *what)
{
    char msg[256], num[16];
    int e = errno, i = sizeof(num);
    size_t n = 0;

    /* "errno N" by hand: strerror may take a locale lock that a thread of the parent held at fork */
    num[--i] = '\0';
    do
        num[--i] = '0' + e % 10;
    while ((e /= 10) != 0 && i != 0);
    const char *err = num + i;

    for (const char *s = "edgefn: cannot start the runtime: "; *s != '\0' && n < sizeof(msg) - 1; ++s)
        msg[n++] = *s;
    for (const char *s = what; *s != '\0' && n < sizeof(msg) - 1; ++s)
        msg[n++] = *s;
    for (const char *s = ": errno "; *s != '\0' && n < sizeof(msg) - 1; ++s)
        msg[n++] = *s;
    for (const char *s = err; *s != '\0' && n < sizeof(msg) - 1; ++s)
        msg[n++] = *s;
    msg[n++] = '\n';
    if (write(STDERR_FILENO, msg, n) < 0) {
        /* nowhere else to say it */
    }
    _exit(127);
}

/* "/proc/self/fd/N" into `buf` (64 bytes), by hand: the child may not call snprintf */
static void fd_path(char *buf, int fd)
{
    static const char prefix[] = "/proc/self/fd/";
    char digits[12];
    int n = 0;

    memcpy(buf, prefix, sizeof(prefix) - 1);
    do
        digits[n++] = '0' + fd % 10;
    while ((fd /= 10) != 0);
    for (int i = 0; i != n; ++i)
        buf[sizeof(prefix) - 1 + i] = digits[n - 1 - i];
    buf[sizeof(prefix) - 1 + n] = '\0';
}

static int is_under_tmp(const char *path)
{
    return strncmp(path, "/tmp/", 5) == 0;
}

/* mkdir -p `path` (a directory under the new /tmp), with system calls only */
static int make_path(const char *path)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, path, len + 1);
    for (size_t i = 5; i <= len; ++i) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        buf[i] = path[i];
    }
    return 0;
}

/*
 * A mount namespace whose /tmp is `dir`. The directories of `keep` that were under the old /tmp (a function's code,
 * edgefn's runtimes in a build tree there) are mounted back at the same paths.
 */
static int enter_private_tmp(const char *dir, const char *const *keep)
{
    int fds[4], num_fds = 0;
    char proc[64];

    if (unshare(CLONE_NEWNS) != 0)
        return -1;
    /* changes stay in this namespace */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return -1;
    /* opened in the new namespace: a bind mount takes its source from there */
    for (size_t i = 0; keep != NULL && keep[i] != NULL && num_fds != 4; ++i)
        if (is_under_tmp(keep[i]) && (fds[num_fds++] = open(keep[i], O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
            return -1;
    if (mount(dir, "/tmp", NULL, MS_BIND, NULL) != 0)
        return -1;
    for (int i = 0, k = 0; keep != NULL && keep[k] != NULL && i != num_fds; ++k) {
        if (!is_under_tmp(keep[k]))
            continue;
        fd_path(proc, fds[i]);
        if (make_path(keep[k]) != 0 || mount(proc, keep[k], NULL, MS_BIND, NULL) != 0)
            return -1;
        close(fds[i++]);
    }
    return 0;
}

static void reset_signals(void)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigset_t none;

    for (int sig = 1; sig < NSIG; ++sig)
        sigaction(sig, &dfl, NULL); /* fails harmlessly for SIGKILL, SIGSTOP and the ones glibc reserves */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int ef_spawn_private_tmp(void)
{
    static int probed = -1;
    char dir[] = "/tmp/edgefn-probe.XXXXXX";
    pid_t pid;
    int status;

    if (probed != -1)
        return probed;
    probed = 0;
    if (mkdtemp(dir) == NULL)
        return probed;
    if ((pid = fork()) == 0)
        _exit(enter_private_tmp(dir, NULL) == 0 ? 0 : 1);
    if (pid != -1 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        probed = 1;
    rmdir(dir);
    return probed;
}

pid_t ef_spawn(const ef_spawn_t *spawn)
{
    int devnull, private_tmp = ef_spawn_private_tmp();
    pid_t parent = getpid(), pid;

    if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
        return -1;
    if ((pid = fork()) != 0) {
        int saved = errno;
        close(devnull);
        errno = saved;
        return pid;
    }

    /* the child: system calls only, from here to exec */
    reset_signals();
    if (dup2(spawn->output_fd, STDOUT_FILENO) == -1 || dup2(spawn->output_fd, STDERR_FILENO) == -1 ||
        dup2(devnull, STDIN_FILENO) == -1)
        _exit(127);
    syscall(SYS_close_range, 3, ~0U, 0);
    if (setsid() == -1)
        child_fail("setsid");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        child_fail("prctl");
    if (getppid() != parent) /* the server died before the line above */
        _exit(127);
    if (private_tmp && enter_private_tmp(spawn->tmp_dir, spawn->keep) != 0)
        child_fail("mount a private /tmp");
    if (chdir(spawn->cwd) != 0)
        child_fail(spawn->cwd);
    execve(spawn->argv[0], spawn->argv, spawn->envp);
    child_fail(spawn->argv[0]);
    return -1;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void ef_remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
