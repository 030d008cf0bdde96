/* runtime/sandbox/seccomp_bpf.h of a cross build, where the generator cannot run: no program
   (RT_SECCOMP_BPF_LEN 0), so bale compiles the default one at run time. */
#include <linux/filter.h>
#define RT_SECCOMP_BPF_ARCH 0U
#define RT_SECCOMP_BPF_LIBSECCOMP_MAJOR 0
#define RT_SECCOMP_BPF_LIBSECCOMP_MINOR 0
#define RT_SECCOMP_BPF_LIBSECCOMP_MICRO 0
#define RT_SECCOMP_BPF_KERNEL_MAJOR 0
#define RT_SECCOMP_BPF_KERNEL_MINOR 0
#define RT_SECCOMP_BPF_LEN 0U
static const struct sock_filter rt_seccomp_bpf[] = { { 0, 0, 0, 0 } };
