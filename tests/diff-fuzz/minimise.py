# SPDX-License-Identifier: GPL-2.0-or-later
"""Shrink a failing case and write it as a regression case.

    python3 minimise.py CASE.json NAME [--right docker|overlay|copy] [--todo TEXT] [--work DIR]

CASE.json is what dfz.py kept for a failing seed (fail/sSEED/case.json). Stages, instructions,
the `&&` parts of RUN steps, context entries, build args and secrets are dropped one at a time
for as long as the case still fails the same way (same status, still not explained by a known
finding of FINDINGS.md: a shrink never drifts into another, known bug). The result is written
to tests/diff-fuzz/cases/NAME/: case.json, and `expected` (the masked tree and config of the
right side's image, BuildKit's unless --right says otherwise) that `dfz.py regress` checks
bale against. --todo marks a divergence whose fix is on another branch (the regression test
reports it as TODO until then). Needs root and, unless the divergence is between bale's two
modes, DOCKER_HOST (tests/diff-fuzz/fuzz.sh's environment: run it under `fuzz.sh --shell`).
"""
import argparse
import json
import os
import shutil
import sys

sys.dont_write_bytecode = True  # nothing written beside the sources (make distcheck)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dfz  # noqa: E402


class Shrinker:
    def __init__(self, case, work, stores):
        self.case = case
        self.work = work
        self.stores = stores
        self.sigs = dfz.known_signatures()
        self.runs = 0
        self.status, diffs = self.check(case)
        if self.status == "same":
            raise SystemExit("minimise.py: the case does not fail")
        self.diffs = diffs

    def check(self, case):
        self.runs += 1
        w = os.path.join(self.work, "try")
        shutil.rmtree(w, ignore_errors=True)
        return dfz.compare(case, w, self.stores, with_docker="DOCKER_HOST" in os.environ)

    def fails(self, case):
        try:
            status, diffs = self.check(case)
        except Exception:
            return False
        if status != self.status:
            return False
        names, rest = dfz.classify(case, status, diffs, self.sigs)
        if names and not rest and status in ("differ", "modes"):
            return False
        if status in ("differ", "modes"):
            self.diffs = diffs
        return True

    def attempt(self, cand):
        if self.fails(cand):
            self.case = cand
            return True
        return False

    def drop_lines(self, idx):
        c = json.loads(json.dumps(self.case))
        for key in ("dockerfile", "lowered"):
            if c.get(key):
                c[key] = [x for i, x in enumerate(c[key]) if i not in idx]
        return c

    def stages(self):
        df = self.case["dockerfile"]
        starts = [i for i, x in enumerate(df) if x.startswith("FROM ")]
        for k in range(len(starts) - 2, -1, -1):
            df = self.case["dockerfile"]
            starts = [i for i, x in enumerate(df) if x.startswith("FROM ")]
            if k + 1 >= len(starts):
                continue
            self.attempt(self.drop_lines(set(range(starts[k], starts[k + 1]))))

    def lines(self):
        i = len(self.case["dockerfile"]) - 1
        while i >= 0:
            if not self.case["dockerfile"][i].startswith("FROM "):
                self.attempt(self.drop_lines({i}))
            i = min(i, len(self.case["dockerfile"])) - 1

    def parts(self):
        for i in range(len(self.case["dockerfile"])):
            line = self.case["dockerfile"][i]
            if not line.startswith("RUN ") or "\n" in line:
                continue
            head, _, body = line.partition(" ")
            prefix = ""
            while body.startswith("--mount="):
                m, _, body = body.partition(" ")
                prefix += m + " "
            if body.startswith('["/bin/sh", "-c", '):
                # the exec form the generator writes: shrunk as the shell form
                body = json.loads(body)[2]
            parts = body.split(" && ")
            j = 0
            while len(parts) > 1 and j < len(parts):
                cand_parts = parts[:j] + parts[j + 1:]
                c = json.loads(json.dumps(self.case))
                new = "RUN " + prefix + " && ".join(cand_parts)
                c["dockerfile"][i] = new
                if c.get("lowered"):
                    c["lowered"][i] = new
                if self.attempt(c):
                    parts = cand_parts
                else:
                    j += 1

    def context(self):
        i = len(self.case["context"]) - 1
        while i >= 0:
            c = json.loads(json.dumps(self.case))
            del c["context"][i]
            self.attempt(c)
            i = min(i, len(self.case["context"])) - 1
        for key in ("build_args", "secrets"):
            for k in sorted(self.case.get(key, {})):
                c = json.loads(json.dumps(self.case))
                del c[key][k]
                self.attempt(c)
        if self.case.get("ssh"):
            c = json.loads(json.dumps(self.case))
            c["ssh"] = False
            self.attempt(c)

    def run(self):
        before = None
        while before != self.case:
            before = json.loads(json.dumps(self.case))
            self.stages()
            self.lines()
            self.parts()
            self.context()
        return self.case


def expected_of(case, work, stores, right):
    """The masked description of the right side's image (what dfz.py regress compares)."""
    w = os.path.join(work, "expected")
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    ctx = os.path.join(w, "ctx")
    if right == "docker":
        modern = bool(case.get("modern"))
        dfz.materialise(case, ctx, lowered=modern or bool(case.get("twin_ctx")))
        archive = dfz.build_docker(case, ctx, w)
    else:
        dfz.materialise(case, ctx)
        archive = dfz.build_bale(case, ctx, w, right, stores)
    if not archive:
        return None
    return dfz.describe_masked(case, archive, right == "docker", extra=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("name")
    ap.add_argument("--right", default="docker", choices=["docker", "overlay", "copy"])
    ap.add_argument("--todo", default="")
    ap.add_argument("--why", default="")
    ap.add_argument("--work", default="dfz-min")
    ap.add_argument("--no-shrink", action="store_true", help="write the case as it is (a hand-written one)")
    ap.add_argument("--layers", action="store_true",
                    help="also write expected_layers, the layers' tar headers (with --right overlay or copy)")
    a = ap.parse_args()
    if a.layers and a.right == "docker":
        ap.error("--layers needs --right overlay or copy: the layers hold the base's headers")
    with open(a.case) as f:
        case = json.load(f)
    stores = os.environ.get("BALE_STORE_DIR", os.path.join(a.work, "stores"))
    if a.no_shrink:
        small = case
    else:
        s = Shrinker(case, a.work, stores)
        small = s.run()
        print("minimise.py: %s after %d builds: %d instructions, %d context entries"
              % (s.status, s.runs, len(small["dockerfile"]), len(small["context"])), file=sys.stderr)
        small["status"] = s.status
    if a.todo:
        small["todo"] = a.todo
    if a.why:
        small["why"] = a.why
    exp = expected_of(small, a.work, stores, a.right)
    d = os.path.join(HERE, "cases", a.name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(small, f, indent=1, sort_keys=True)
        f.write("\n")
    if exp is not None:
        with open(os.path.join(d, "expected"), "w") as f:
            f.write("\n".join(exp) + "\n")
    if a.layers:
        # the layers' headers of bale's image (--right overlay or copy), on the test's busybox
        with open(os.path.join(d, "expected_layers"), "w") as f:
            f.write("\n".join(dfz.layer_listing(os.path.join(a.work, "expected", a.right + ".tar"))) + "\n")
    with open(os.path.join(d, "Dockerfile"), "w") as f:
        f.write("\n".join(small["dockerfile"]) + "\n")
    print("\n".join(small["dockerfile"]))
    if not a.no_shrink:
        print("\n".join(s.diffs))


if __name__ == "__main__":
    main()
