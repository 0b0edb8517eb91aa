/* Exits 0 when pidfd_send_signal(2) works: run under a valgrind, it tells
 * whether that valgrind wraps the syscall (one that does not fails it with
 * ENOSYS and logs a warning). tests/lib/valgrind.bash builds and runs it. */
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
        int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
        return fd >= 0 && syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0 ? 0 : 1;
}
