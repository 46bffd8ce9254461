/* console.c - pty creation inside the container and fd passing. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "util.h"

int console_socket_connect(const char *path, edgecr_error_t *err)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path)
    return edgecr_error_make(err, ENAMETOOLONG, "--console-socket `%s`", path);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return edgecr_error_make(err, errno, "--console-socket: socket");
  if (connect(fd, (struct sockaddr *) &addr, sizeof addr) < 0) {
    int e = errno;
    close(fd);
    return edgecr_error_make(err, e, "--console-socket: connect `%s`", path);
  }
  return fd;
}

int send_fd(int sock, int fd, const char *payload, edgecr_error_t *err)
{
  char dummy = 0;
  struct iovec iov = {.iov_base = payload ? (void *) payload : &dummy, .iov_len = payload ? strlen(payload) : 1};
  char cbuf[CMSG_SPACE(sizeof(int))] = {0};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  while (sendmsg(sock, &mh, 0) < 0)
    if (errno != EINTR)
      return edgecr_error_make(err, errno, "send terminal fd");
  return 0;
}

int recv_fd(int sock, int *fd, edgecr_error_t *err)
{
  char buf[4096];
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  ssize_t r;
  while ((r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0)
    if (errno != EINTR)
      return edgecr_error_make(err, errno, "receive terminal fd");
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  if (r == 0 || cm == NULL || cm->cmsg_type != SCM_RIGHTS)
    return edgecr_error_make(err, EBADMSG, "receive terminal fd: no descriptor in the message");
  memcpy(fd, CMSG_DATA(cm), sizeof(int));
  return 0;
}

int console_setup(int sock, const struct oci_process *p, edgecr_error_t *err)
{
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return edgecr_error_make(err, errno, "process.terminal: open /dev/ptmx (is /dev/pts mounted?)");
  int unlock = 0;
  char name[64];
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ptsname_r(master, name, sizeof name) != 0) {
    int e = errno;
    close(master);
    return edgecr_error_make(err, e, "process.terminal: unlock pty");
  }
  int slave = open(name, O_RDWR | O_NOCTTY);
  if (slave < 0) {
    int e = errno;
    close(master);
    return edgecr_error_make(err, e, "process.terminal: open `%s`", name);
  }
  if (p->console_width || p->console_height) {
    struct winsize ws = {.ws_row = (unsigned short) p->console_height, .ws_col = (unsigned short) p->console_width};
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (fchown(slave, p->user.uid, (gid_t) -1) < 0) { /* best effort: tty group may not exist */ }
  int r = send_fd(sock, master, name, err);
  close(master);
  if (r < 0)
    return -1;
  if (setsid() < 0 && errno != EPERM)
    return edgecr_error_make(err, errno, "process.terminal: setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return edgecr_error_make(err, errno, "process.terminal: set controlling terminal");
  for (int i = 0; i < 3; i++)
    if (dup2(slave, i) < 0)
      return edgecr_error_make(err, errno, "process.terminal: dup2");
  if (slave > 2)
    close(slave);
  return 0;
}
