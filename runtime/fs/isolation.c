/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Choose and enter the isolation of RUN steps: namespaces where they work, chroot elsewhere. */
#include <config.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "runtime/fs/isolation.h"
#include "runtime/fs/rootless.h"
#include "common/banned.h"

#define ENV_NAME "_BALE_ISOLATION"

int
isolation_parse (const char *text, enum isolation *out, bale_error_t *err)
{
  if (strcmp (text, "auto") == 0)
    *out = ISOLATION_AUTO;
  else if (strcmp (text, "namespace") == 0 || strcmp (text, "rootless") == 0
           || strcmp (text, "oci") == 0)
    *out = ISOLATION_NAMESPACE;
  else if (strcmp (text, "chroot") == 0)
    *out = ISOLATION_CHROOT;
  else
    return bale_make_error (err, 0, "--isolation: unknown '%s' (want auto, namespace or chroot)",
                            text);
  return 0;
}

/* What a step's sandbox does first, tried in a throwaway child: new mount, PID, UTS and IPC
   namespaces and a fresh /proc. The exit status is the errno of the first refusal. */
static int
probe_namespaces (void)
{
  pid_t pid = fork ();
  int status;

  if (pid == 0)
    {
      pid_t init;
      if (unshare (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC) < 0)
        _exit (errno & 0x7f);
      if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        _exit (errno & 0x7f);
      init = fork ();
      if (init == 0)
        _exit (mount ("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0
                   ? errno & 0x7f
                   : 0);
      if (init < 0 || waitpid (init, &status, 0) < 0)
        _exit (1);
      _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 1);
    }
  if (pid < 0)
    return errno;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return errno;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 1;
}

/* chroot isolation needs CAP_SYS_CHROOT; a throwaway child tries it. */
static bool
can_chroot (void)
{
  pid_t pid = fork ();
  int status;

  if (pid == 0)
    _exit (chroot ("/") == 0 ? 0 : 1);
  if (pid < 0)
    return false;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return false;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static int
enter_chroot (const char *why, bale_error_t *err)
{
  if (geteuid () != 0 || !can_chroot ())
    return bale_make_error (err, 0,
                            "chroot isolation needs root with CAP_SYS_CHROOT (Docker's default "
                            "capabilities): run the container as root, or give it "
                            "--security-opt seccomp=unconfined --security-opt "
                            "apparmor=unconfined for the namespace isolation of an ordinary "
                            "user");
  setenv (ENV_NAME, why, 1);
  /* Nothing may be mounted: every view of layers (COPY, RUN) is a copy. */
  setenv ("BALE_FORCE_COPY", "1", 1);
  return 0;
}

int
isolation_enter (enum isolation want, bale_error_t *err)
{
  int e;

  unsetenv (ENV_NAME); /* only this process decides, never an inherited variable */
  if (geteuid () != 0)
    {
      /* An ordinary user has no chroot of its own: a user namespace first, or nothing. */
      if (rootless_enter_probing (want == ISOLATION_AUTO, err) < 0)
        {
          if (want != ISOLATION_NAMESPACE)
            bale_error_wrap (err, "no isolation works here: an ordinary user needs a user "
                                  "namespace, and chroot isolation needs root");
          return -1;
        }
      /* Root of it now. Where the container masks /proc paths (Docker without
         systempaths=unconfined), the kernel refuses a fresh /proc in a user namespace
         (mount_too_revealing): the namespace then serves for owners, and steps are chrooted. */
      if (want == ISOLATION_CHROOT)
        return enter_chroot ("chosen with --isolation=chroot", err);
      if (want == ISOLATION_AUTO && (e = probe_namespaces ()) != 0)
        {
          char why[256];
          snprintf (why, sizeof why,
                    "a step's namespaces cannot be made in bale's user namespace (%s: a "
                    "container that masks /proc paths; systempaths=unconfined lifts it)",
                    strerror (e));
          return enter_chroot (why, err);
        }
      return 0;
    }
  if (want == ISOLATION_CHROOT)
    return enter_chroot ("chosen with --isolation=chroot", err);
  if (want == ISOLATION_NAMESPACE)
    return 0;
  /* Real root, or root of a container: namespaces when the sandbox can create them. */
  e = probe_namespaces ();
  if (e == 0)
    return 0;
  {
    char why[256];
    snprintf (why, sizeof why,
              "namespaces and mounts are refused here (%s: a container without "
              "CAP_SYS_ADMIN, or under a seccomp or AppArmor profile)",
              strerror (e));
    return enter_chroot (why, err);
  }
}

bool
isolation_chroot (void)
{
  return getenv (ENV_NAME) != NULL && geteuid () == 0;
}

const char *
isolation_describe (void)
{
  static char line[1024];

  if (isolation_chroot ())
    {
      const char *r = rootless_describe ();
      snprintf (line, sizeof line,
                "%s%sisolation: chroot, no namespaces (%s); see docs/rootless.md for what a "
                "RUN step can reach",
                r ? r : "", r ? "; " : "", getenv (ENV_NAME));
      return line;
    }
  return rootless_describe ();
}
