/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compile Docker's default seccomp profile with libseccomp, once, and load it in a sandbox. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "runtime/sandbox/seccomp.h"
#include "common/banned.h"

/* The profile's archMap: the native architecture, its Go name (what "arches" conditions
   name) and the compatible ABIs whose binaries an image may hold. */
static const struct
{
  uint32_t arch;
  const char *go_name;
  uint32_t subs[2];
} arch_map[] = {
  { SCMP_ARCH_X86_64, "amd64", { SCMP_ARCH_X86, SCMP_ARCH_X32 } },
  { SCMP_ARCH_AARCH64, "arm64", { SCMP_ARCH_ARM, 0 } },
  { SCMP_ARCH_X86, "x86", { 0, 0 } },
  { SCMP_ARCH_ARM, "arm", { 0, 0 } },
  { SCMP_ARCH_PPC64LE, "ppc64le", { 0, 0 } },
  { SCMP_ARCH_S390X, "s390x", { SCMP_ARCH_S390, 0 } },
  { SCMP_ARCH_S390, "s390", { 0, 0 } },
  { SCMP_ARCH_RISCV64, "riscv64", { 0, 0 } },
};

/*
 * System calls of the profile's unconditional allow list that are newer than some libseccomp
 * releases (Debian 12 has 2.5.4, whose table stops at futex_requeue, 456). Since Linux 5.1
 * (number 424) every architecture bale knows numbers new calls alike (x32 adds its bit), so
 * the number is known without libseccomp; they are allowed by the stub below, as a newer
 * libseccomp would allow them through the profile.
 */
static const struct
{
  const char *name;
  uint32_t nr;
} newer_calls[] = {
  { "statmount", 457 },   { "listmount", 458 },   { "mseal", 462 },
  { "setxattrat", 463 },  { "getxattrat", 464 },  { "listxattrat", 465 },
  { "removexattrat", 466 },
};
#define MAX_EXTRA (sizeof newer_calls / sizeof *newer_calls)
#define X32_BIT 0x40000000U

/* What the stub checks for one architecture before libseccomp's program runs. */
struct stub_arch
{
  uint32_t token;  /* SCMP_ARCH_* = AUDIT_ARCH_* */
  uint32_t max;    /* the highest number the profile names here: above is ENOSYS */
  uint32_t extra[MAX_EXTRA]; /* newer_calls allowed */
  size_t n_extra;
  bool seen;
};

static bool
in_list (const char *list, const char *name)
{
  size_t n = strlen (name);

  for (const char *p = list; p && *p;)
    {
      size_t len = strcspn (p, ",");
      if (len == n && strncmp (p, name, n) == 0)
        return true;
      p += len + (p[len] == ',');
    }
  return false;
}

bool
rt_seccomp_kernel_at_least (int major, int minor)
{
  static int km = -1, kn = -1;

  if (km < 0)
    {
      struct utsname u;
      if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &km, &kn) != 2)
        km = kn = 0;
    }
  return km > major || (km == major && kn >= minor);
}

void
rt_seccomp_profile_kernel (int *major, int *minor)
{
  *major = *minor = 0;
  for (unsigned long i = 0; i < rt_seccomp_profile_len; i++)
    {
      const struct rt_seccomp_rule *r = &rt_seccomp_profile[i];
      if (r->min_kernel.major > *major
          || (r->min_kernel.major == *major && r->min_kernel.minor > *minor))
        {
          *major = r->min_kernel.major;
          *minor = r->min_kernel.minor;
        }
    }
}

/* The kernel a program is compiled for: the running one, or (kernel->major >= 0) a version
   given by the caller. */
struct kernel_version
{
  int major, minor;
};

static bool
kernel_meets (const struct kernel_version *k, int major, int minor)
{
  if (k->major < 0)
    return rt_seccomp_kernel_at_least (major, minor);
  return k->major > major || (k->major == major && k->minor >= minor);
}

/* Docker's setupSeccomp: excludes first (any listed cap present, or this arch), then
   includes (every listed cap present, this arch listed, the kernel new enough). */
static bool
rule_applies (const struct rt_seccomp_rule *r, uint64_t caps, const char *arch,
              const struct kernel_version *k)
{
  if (r->exc_arches && in_list (r->exc_arches, arch))
    return false;
  if (r->exc_caps & caps)
    return false;
  if (r->inc_arches && !in_list (r->inc_arches, arch))
    return false;
  if ((r->inc_caps & caps) != r->inc_caps)
    return false;
  if (r->min_kernel.major && !kernel_meets (k, r->min_kernel.major, r->min_kernel.minor))
    return false;
  return true;
}

/* Note name (of a rule that applies) in the stub's view of each architecture. */
static void
stub_note (struct stub_arch *arches, size_t n, const struct rt_seccomp_rule *r, const char *name)
{
  for (size_t i = 0; i < n; i++)
    {
      int nr = seccomp_syscall_resolve_name_arch (arches[i].token, name);
      uint32_t v;

      if (nr == __NR_SCMP_ERROR && r->action == RT_SECCOMP_ALLOW && r->n_args == 0)
        for (size_t j = 0; j < MAX_EXTRA; j++)
          if (strcmp (newer_calls[j].name, name) == 0 && arches[i].n_extra < MAX_EXTRA)
            {
              v = newer_calls[j].nr | (arches[i].token == SCMP_ARCH_X32 ? X32_BIT : 0);
              arches[i].extra[arches[i].n_extra++] = v;
              nr = (int) v;
            }
      if (nr < 0) /* unknown, or a pseudo number: not a call of this architecture */
        continue;
      v = (uint32_t) nr & ~X32_BIT;
      if (!arches[i].seen || v > arches[i].max)
        arches[i].max = v;
      arches[i].seen = true;
    }
}

static int
add_rules (scmp_filter_ctx ctx, uint64_t caps, const char *arch, const struct kernel_version *k,
           bale_error_t *err)
{
  for (unsigned long i = 0; i < rt_seccomp_profile_len; i++)
    {
      const struct rt_seccomp_rule *r = &rt_seccomp_profile[i];
      uint32_t action = r->action == RT_SECCOMP_ALLOW ? SCMP_ACT_ALLOW
                                                      : SCMP_ACT_ERRNO ((uint32_t) r->errno_ret);

      if (!rule_applies (r, caps, arch, k))
        continue;
      for (const char *const *name = r->names; *name; name++)
        {
          int nr = seccomp_syscall_resolve_name (*name);
          int rc;

          /* A name this libseccomp does not know: runc skips it, and so do we (the call then
             gets the default action). */
          if (nr == __NR_SCMP_ERROR)
            continue;
          if (r->n_args)
            {
              struct scmp_arg_cmp cmp = { r->arg.index, r->arg.op, r->arg.value,
                                          r->arg.value_two };
              rc = seccomp_rule_add_array (ctx, action, nr, 1, &cmp);
            }
          else
            rc = seccomp_rule_add (ctx, action, nr, 0);
          /* EACCES: the rule's action is the default one; EEXIST: already there. */
          if (rc < 0 && rc != -EACCES && rc != -EEXIST)
            return bale_make_error (err, -rc, "seccomp: cannot add the rule for '%s'", *name);
        }
    }
  return 0;
}

/* An instruction list that grows. */
struct insns
{
  struct sock_filter *v;
  size_t n, alloc;
};

static void
emit (struct insns *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
  XGROW (p->v, p->alloc, p->n + 1);
  p->v[p->n++] = (struct sock_filter) BPF_JUMP (code, k, jt, jf);
}

/* The checks of one number space: newer calls allowed, above max ENOSYS, else on to the
   profile. Jumps to the two returns are patched by the caller (marked jt = 0xff / 0xfe). */
static void
emit_space (struct insns *p, const struct stub_arch *a, uint32_t bit)
{
  for (size_t i = 0; i < a->n_extra; i++)
    emit (p, BPF_JMP | BPF_JEQ | BPF_K, 0xfe, 0, a->extra[i]);
  emit (p, BPF_JMP | BPF_JGT | BPF_K, 0xff, 0, a->max | bit);
  emit (p, BPF_JMP | BPF_JA | BPF_K, 0, 0, 0xffffffffU); /* to the profile: patched */
}

/*
 * runc's ENOSYS stub (libcontainer/seccomp/patchbpf): a call numbered above every call the
 * profile names is newer than the profile, and gets ENOSYS rather than the default EPERM, so
 * that programs fall back to the older call they know (glibc does for clone3, fchmodat2...).
 * Prepended to libseccomp's program; unknown architectures fall through to it (and its
 * bad-architecture action).
 */
static void
build_stub (struct stub_arch *arches, size_t n, struct insns *p)
{
  size_t enosys, allow;
  const struct stub_arch *x32 = NULL;

  for (size_t i = 0; i < n; i++)
    if (arches[i].token == SCMP_ARCH_X32 && arches[i].seen)
      x32 = &arches[i];
  emit (p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof (struct seccomp_data, arch));
  for (size_t i = 0; i < n; i++)
    {
      const struct stub_arch *a = &arches[i];
      size_t start = p->n, skip_x32 = 0;

      if (!a->seen || a->token == SCMP_ARCH_X32)
        continue;
      emit (p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, a->token); /* jf patched: the next arch */
      emit (p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof (struct seccomp_data, nr));
      if (a->token == SCMP_ARCH_X86_64 && x32)
        {
          /* x32 shares x86_64's audit token; its numbers carry X32_BIT. */
          emit (p, BPF_JMP | BPF_JSET | BPF_K, 0, 0, X32_BIT); /* jf patched */
          skip_x32 = p->n - 1;
          emit_space (p, x32, X32_BIT);
          p->v[skip_x32].jf = (uint8_t) (p->n - skip_x32 - 1);
        }
      emit_space (p, a, 0);
      p->v[start].jf = (uint8_t) (p->n - start - 1);
    }
  /* Reached by every architecture not listed: on to the profile. */
  emit (p, BPF_JMP | BPF_JA | BPF_K, 0, 0, 0xffffffffU);
  enosys = p->n;
  emit (p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS);
  allow = p->n;
  emit (p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
  for (size_t i = 0; i < enosys; i++)
    {
      struct sock_filter *f = &p->v[i];
      if (BPF_CLASS (f->code) != BPF_JMP)
        continue;
      if (BPF_OP (f->code) == BPF_JA && f->k == 0xffffffffU)
        f->k = (uint32_t) (p->n - i - 1);
      else if (f->jt == 0xff)
        f->jt = (uint8_t) (enosys - i - 1);
      else if (f->jt == 0xfe)
        f->jt = (uint8_t) (allow - i - 1);
    }
}

/* The BPF program of ctx, read back from a memfd (libseccomp 2.5 can only write it to an fd). */
static int
export_program (scmp_filter_ctx ctx, const struct insns *stub, struct sock_fprog *out,
                bale_error_t *err)
{
  cleanup_close int fd = memfd_create ("bale-seccomp", MFD_CLOEXEC);
  off_t size;
  size_t n;
  int rc;

  if (fd < 0)
    return bale_make_error (err, errno, "seccomp: cannot create a memfd");
  if ((rc = seccomp_export_bpf (ctx, fd)) < 0)
    return bale_make_error (err, -rc, "seccomp: cannot export the filter");
  size = lseek (fd, 0, SEEK_END);
  n = (size_t) size / sizeof (struct sock_filter);
  if (size <= 0 || (size_t) size % sizeof (struct sock_filter) != 0
      || stub->n + n > BPF_MAXINSNS)
    return bale_make_error (err, 0, "seccomp: the exported filter has %lld bytes",
                            (long long) size);
  out->len = (unsigned short) (stub->n + n);
  out->filter = xcalloc (out->len, sizeof *out->filter);
  memcpy (out->filter, stub->v, stub->n * sizeof *stub->v);
  if (pread (fd, out->filter + stub->n, (size_t) size, 0) != size)
    {
      free (steal_pointer (&out->filter));
      return bale_make_error (err, errno, "seccomp: cannot read the exported filter");
    }
  return 0;
}

static int
compile (uint64_t caps, const struct kernel_version *k, struct sock_fprog *out, bale_error_t *err)
{
  uint32_t native = seccomp_arch_native ();
  const char *arch = NULL;
  struct stub_arch arches[3] = { { .token = native } };
  size_t n_arches = 1;
  struct insns stub = { 0 };
  scmp_filter_ctx ctx;
  int ret = -1;

  memset (out, 0, sizeof *out);
  ctx = seccomp_init (SCMP_ACT_ERRNO (RT_SECCOMP_DEFAULT_ERRNO));
  if (ctx == NULL)
    return bale_make_error (err, ENOMEM, "seccomp: cannot create a filter");
  /* Docker and BuildKit leave no_new_privs off: setuid programs of the image work. */
  if (seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
    {
      bale_make_error (err, 0, "seccomp: cannot clear the no_new_privs attribute");
      goto out;
    }
  /* A binary tree of syscall numbers instead of a linear list (runc does the same above 32
     rules): the filter runs on every system call of the step. */
  (void) seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (size_t i = 0; i < sizeof arch_map / sizeof *arch_map; i++)
    if (arch_map[i].arch == native)
      {
        arch = arch_map[i].go_name;
        for (size_t j = 0; j < 2 && arch_map[i].subs[j]; j++)
          {
            int rc = seccomp_arch_add (ctx, arch_map[i].subs[j]);
            arches[n_arches++].token = arch_map[i].subs[j];
            if (rc < 0 && rc != -EEXIST)
              {
                bale_make_error (err, -rc, "seccomp: cannot add a compatible architecture");
                goto out;
              }
          }
      }
  if (arch == NULL)
    {
      bale_make_error (err, 0, "seccomp: Docker's profile has no rules for this architecture "
                               "(libseccomp token %#x)", (unsigned) native);
      goto out;
    }
  if (add_rules (ctx, caps, arch, k, err) < 0)
    goto out;
  for (unsigned long i = 0; i < rt_seccomp_profile_len; i++)
    if (rule_applies (&rt_seccomp_profile[i], caps, arch, k))
      for (const char *const *name = rt_seccomp_profile[i].names; *name; name++)
        stub_note (arches, n_arches, &rt_seccomp_profile[i], *name);
  build_stub (arches, n_arches, &stub);
  if (export_program (ctx, &stub, out, err) < 0)
    goto out;
  ret = 0;
out:
  free (stub.v);
  seccomp_release (ctx);
  return ret;
}

int
rt_seccomp_compile (uint64_t caps, struct sock_fprog *out, bale_error_t *err)
{
  const struct kernel_version running = { -1, -1 };

  return compile (caps, &running, out, err);
}

int
rt_seccomp_compile_for_kernel (uint64_t caps, int major, int minor, struct sock_fprog *out,
                               bale_error_t *err)
{
  const struct kernel_version k = { major, minor };

  return compile (caps, &k, out, err);
}

int
rt_seccomp_load (const struct sock_fprog *prog)
{
  return (int) syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog);
}
