"""Train the embedded guard and write its artifact.

    python -m policies.guards.embedded.train [--data DIR] [--out PATH] [--no-eval]

One logistic regression per category (scikit-learn, the `train` extra) over
`features.py` features, NB-scaled (each feature multiplied by its naive-Bayes
log-count ratio for that category, as in NBSVM, Wang & Manning 2012); the
overall unsafe score is the noisy-OR of the category probabilities.

Training data: the moderation train split (data.moderation_split, all four
languages) plus the seeded synthetic prompts (synth.generate). Never the
moderation test split, never XSTest. The operating threshold is chosen by a
4-fold cross-validation inside the training data, grouped by moderation
prompt index (a prompt and its translations stay in one fold): the threshold
that maximises the mean F1 over the four languages on the out-of-fold
predictions, among those that keep the false-positive rate on the held-out
synthetic prompts (synth's "held" fillers, which those folds do not train
on) at most MAX_DEV_FPR. Deterministic: fixed split and seed, lbfgs.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression

from policies.guards.embedded import data as D
from policies.guards.embedded import devset, features, synth
from policies.guards.embedded.evaluate import evaluate, table
from policies.guards.embedded.model import DEFAULT_ARTIFACT, FORMAT, EmbeddedGuard, pack, quantize

C = 1.0  # inverse L2 strength of the category heads
C_OVERALL = 3.0  # and of the overall head
MIN_DF = 2  # a feature must occur in at least this many training texts
NB_ALPHA = 1.0  # smoothing of the naive-Bayes ratios
# Weight of the categories' noisy-OR logit against the overall head's, for
# short prompts and for longer texts (see SHORT_TOKENS).
# (By CV: 0.7 for long texts gained 0.009 mean F1 over 0.5; short prompts
# were level between 0.3 and 0.7.)
BLEND = (0.5, 0.7)
SYNTH_SEED = 0
CV_FOLDS = 4
MAX_DEV_FPR = 0.10  # on the hand-written development set (devset.py)
OVERALL = "overall"
# Prompts of at most this many tokens get their own threshold: a short
# request carries few features, its score sits nearer the prior.
SHORT_TOKENS = 40
# Synthetic labels use the moderation codes; map them to category names.
SYNTH_CATEGORY = {**D.CODES, synth.ILLICIT: D.ILLICIT}


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    unsafe: bool
    labels: dict[str, int]  # category -> 0/1; missing = not labelled
    index: int  # moderation prompt index, -1 for synthetic rows
    lang: str
    held: bool  # synthetic development row


def training_rows(data: str | Path | None = None, seed: int = SYNTH_SEED) -> list[Row]:
    rows = []
    for lang in D.LANGS:
        train, _ = D.moderation_split(lang, data)
        rows += [Row(p.text, p.unsafe, p.labels, p.index, lang, False) for p in train]
    for e in synth.generate(seed):
        labels = {name: int(code in e.categories) for code, name in SYNTH_CATEGORY.items()}
        rows.append(Row(e.text, e.unsafe, labels, -1, e.lang, e.held))
    return rows


def head_labels(rows: Sequence[Row], category: str) -> np.ndarray:
    """1 / 0 per row, -1 where unknown: a safe moderation prompt has no
    category; an unsafe one without this category's flag is not labelled."""
    out = np.empty(len(rows), dtype=int)
    for i, r in enumerate(rows):
        if category in r.labels:
            out[i] = r.labels[category]
        else:
            out[i] = -1 if r.unsafe else 0
    return out


class Design:
    """Vocabulary, idf and the matrices of the training texts.

    Word block: presence, times idf, L2-normalised (scikit-learn's tf-idf on
    binary counts). Char block: c_j = the number of distinct tokens holding
    n-gram j, x_j = c_j idf_j / sqrt(sum_j c_j idf_j^2), which is what the
    runtime computes from per-token summaries (features.py)."""

    def __init__(self, texts: Sequence[str], fit: np.ndarray | None = None, lookup: dict | None = None) -> None:
        """Matrices of all `texts`; the vocabulary and idf come from the texts
        where `fit` is true (default: all), as the runtime sees only what training saw."""
        lookup = lookup if lookup is not None else {t: features.features(t) for t in texts}
        fit = np.ones(len(texts), dtype=bool) if fit is None else fit
        fit_texts = [t for t, f in zip(texts, fit) if f]
        self.words = CountVectorizer(analyzer=lambda t: lookup[t][0], binary=True, min_df=MIN_DF, dtype=np.float64)
        self.chars = CountVectorizer(analyzer=lambda t: lookup[t][1], min_df=MIN_DF, dtype=np.float64)
        self.words.fit(fit_texts)
        self.chars.fit(fit_texts)
        self.ntok = np.array([len(features.tokens(t)) for t in texts])
        self.bw = self.words.transform(texts).tocsr()
        self.cc = self.chars.transform(texts).tocsr()
        self.tw = TfidfTransformer().fit(self.bw[np.flatnonzero(fit)])
        bc = (self.cc > 0).astype(np.float64)
        self.idf_c = TfidfTransformer().fit(bc[np.flatnonzero(fit)]).idf_
        self.binary = sparse.hstack([self.bw, bc]).tocsr()
        norm = np.sqrt(self.cc @ self.idf_c**2)
        norm[norm == 0] = 1
        xc = sparse.diags(1 / norm) @ self.cc.multiply(self.idf_c).tocsr()
        self.x = sparse.hstack([self.tw.transform(self.bw), xc]).tocsr()
        self.idf = np.concatenate([self.tw.idf_, self.idf_c])
        self.n_word = self.bw.shape[1]
        vw = sorted(self.words.vocabulary_, key=self.words.vocabulary_.__getitem__)
        vc = sorted(self.chars.vocabulary_, key=self.chars.vocabulary_.__getitem__)
        self.vocab = vw + vc


@dataclass(slots=True)
class Head:
    bias: float
    weights: np.ndarray  # folded: LR coefficient x NB ratio x idf, per vocabulary entry


def fit_head(design: Design, rows_idx: np.ndarray, y: np.ndarray, nb: bool = True, c: float = C) -> Head:
    """One head on these rows (labels y: 1 / 0); `nb` scales the features
    by their naive-Bayes log-count ratios for this label."""
    b = design.binary[rows_idx]
    if nb:
        pos = NB_ALPHA + np.asarray(b[y == 1].sum(axis=0)).ravel()
        neg = NB_ALPHA + np.asarray(b[y == 0].sum(axis=0)).ravel()
        ratio = np.log((pos / pos.sum()) / (neg / neg.sum()))
    else:
        ratio = np.ones(b.shape[1])
    x = design.x[rows_idx].multiply(ratio).tocsr()
    # liblinear's dual solver: the same L2 logistic regression as lbfgs (it
    # also penalises the intercept, slightly), an order of magnitude faster
    # with many more features than rows.
    model = LogisticRegression(C=c, solver="liblinear", dual=True, max_iter=5000, random_state=0).fit(x, y)
    return Head(float(model.intercept_[0]), model.coef_[0] * ratio * design.idf)


def fit_heads(design: Design, rows: Sequence[Row], use: np.ndarray) -> dict[str, Head]:
    """The category heads (NB-scaled) and the overall head (plain) on the rows in `use`."""
    heads = {}
    for name in D.CATEGORIES:
        y = head_labels(rows, name)
        idx = np.flatnonzero(use & (y >= 0))
        heads[name] = fit_head(design, idx, y[idx])
    idx = np.flatnonzero(use)
    heads[OVERALL] = fit_head(design, idx, np.array([rows[i].unsafe for i in idx], dtype=int), nb=False, c=C_OVERALL)
    return heads


def blend(noisy_or: np.ndarray, overall: np.ndarray, short: np.ndarray) -> np.ndarray:
    """The unsafe score before thresholding (model.EmbeddedGuard does the same)."""
    eps = 1e-12
    lo = lambda p: np.log(np.clip(p, eps, 1 - eps) / (1 - np.clip(p, eps, 1 - eps)))  # noqa: E731
    w = np.where(short, BLEND[0], BLEND[1])
    return 1 / (1 + np.exp(-(w * lo(noisy_or) + (1 - w) * lo(overall))))


def predict(design: Design, heads: dict[str, Head], rows_idx: np.ndarray) -> np.ndarray:
    """Unsafe score of these training rows (float weights)."""
    bw = design.bw[rows_idx]
    bc = design.cc[rows_idx]
    idf2 = design.idf**2
    nw = np.sqrt(bw @ idf2[: design.n_word])
    nc = np.sqrt(bc @ idf2[design.n_word :])
    nw[nw == 0] = 1
    nc[nc == 0] = 1
    safe = np.ones(len(rows_idx))
    for name, head in heads.items():
        z = head.bias + (bw @ head.weights[: design.n_word]) / nw + (bc @ head.weights[design.n_word :]) / nc
        if name == OVERALL:
            overall = 1 / (1 + np.exp(-z))
        else:
            safe *= 1 - 1 / (1 + np.exp(-z))
    return blend(1 - safe, overall, design.ntok[rows_idx] <= SHORT_TOKENS)


def f1(truth: np.ndarray, pred: np.ndarray) -> float:
    tp = int((truth & pred).sum())
    fp = int((~truth & pred).sum())
    fn = int((truth & ~pred).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def choose_threshold(rows: Sequence[Row], lookup: dict) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Grouped K-fold CV on the training data -> (threshold, sweep).

    `rows` ends with the development prompts (index -2), which no fold trains
    on. Each fold builds its vocabulary from its own training rows, exactly
    as the shipped model sees only training text."""
    texts = [r.text for r in rows]
    index = np.array([r.index for r in rows])
    synth_rows = index == -1
    dev_rows = index == -2
    mod_rows = index >= 0
    held = np.array([r.held for r in rows])
    unsafe = np.array([r.unsafe for r in rows])
    langs = np.array([r.lang for r in rows])
    prompt_ids = np.unique(index[mod_rows])
    oof = np.full(len(rows), np.nan)
    dev = np.zeros(len(rows))
    for f in range(CV_FOLDS):
        fold = np.isin(index, prompt_ids[f::CV_FOLDS])
        use = (mod_rows & ~fold) | (synth_rows & ~held)
        design = Design(texts, use, lookup)
        heads = fit_heads(design, rows, use)
        oof[fold] = predict(design, heads, np.flatnonzero(fold))
        both = np.flatnonzero(held | dev_rows)
        dev[both] += predict(design, heads, both) / CV_FOLDS
    short = np.array([len(features.tokens(r.text)) <= SHORT_TOKENS for r in rows])
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    sweep = []
    for ts in grid:
        for tl in grid:
            cut = np.where(short, ts, tl)
            mod = [f1(unsafe[mod_rows & (langs == lang)], oof[mod_rows & (langs == lang)] >= cut[mod_rows & (langs == lang)])
                   for lang in D.LANGS]
            sweep.append({
                "threshold_short": float(ts),
                "threshold_long": float(tl),
                "cv_mean_f1": round(float(np.mean(mod)), 4),
                "synthetic_dev_fpr": round(float((dev[held & ~unsafe] >= cut[held & ~unsafe]).mean()), 4),
                "synthetic_dev_recall": round(float((dev[held & unsafe] >= cut[held & unsafe]).mean()), 4),
                "dev_fpr": round(float((dev[dev_rows & ~unsafe] >= cut[dev_rows & ~unsafe]).mean()), 4),
                "dev_recall": round(float((dev[dev_rows & unsafe] >= cut[dev_rows & unsafe]).mean()), 4),
            })
    ok = [s for s in sweep if s["dev_fpr"] <= MAX_DEV_FPR] or sweep
    # Moderation F1 and development-set recall count alike.
    best = max(ok, key=lambda s: (s["cv_mean_f1"] + s["dev_recall"], -s["threshold_short"], -s["threshold_long"]))
    return best, sweep


def to_artifact(design: Design, heads: dict[str, Head], threshold: float, meta: dict[str, Any]) -> dict[str, Any]:
    blob_heads = {}
    for name, head in heads.items():
        scale, codes = quantize(head.weights.tolist())
        blob_heads[name] = {"bias": round(head.bias, 6), "scale": float(f"{scale:.6g}"), "weights": pack(codes)}
    vocab = "\n".join(design.vocab).encode("utf-8")
    return {
        **meta,
        "format": FORMAT,
        "feature_version": features.VERSION,
        "model": {
            "categories": list(D.CATEGORIES),
            "blend": {"short": BLEND[0], "long": BLEND[1]},
            "threshold": threshold,
            "n_word": design.n_word,
            "vocab": base64.b64encode(zlib.compress(vocab, 9)).decode("ascii"),
            "idf": pack(array("f", design.idf.tolist())),
            "heads": blob_heads,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.guards.embedded.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=D.DEFAULT_DATA, help="the shared safety data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTIFACT, help="artifact to write")
    parser.add_argument("--no-eval", action="store_true", help="skip the test-split evaluation (not recorded then)")
    parser.add_argument("--sweep", action="store_true", help="print the whole CV threshold sweep")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    rows = training_rows(args.data)
    dev_rows = [Row(text, unsafe, {}, -2, lang, False) for lang, text, unsafe in devset.prompts()]
    lookup = {r.text: features.features(r.text) for r in rows + dev_rows}
    design = Design([r.text for r in rows], None, lookup)
    print(f"{len(rows)} training texts ({sum(r.index >= 0 for r in rows)} moderation, {sum(r.index < 0 for r in rows)} synthetic); "
          f"vocabulary {len(design.vocab)} ({design.n_word} word, {len(design.vocab) - design.n_word} char) "
          f"[{time.perf_counter() - started:.0f} s]")
    chosen, sweep = choose_threshold(rows + dev_rows, lookup)
    threshold = {"short": chosen["threshold_short"], "long": chosen["threshold_long"], "short_tokens": SHORT_TOKENS}
    if args.sweep:
        for s in sweep:
            if s["threshold_short"] == s["threshold_long"] or s["threshold_long"] == chosen["threshold_long"]:
                print("  " + "  ".join(f"{k} {v}" for k, v in s.items()))
    print(f"threshold {threshold}: CV mean F1 {chosen['cv_mean_f1']}; development set FPR {chosen['dev_fpr']}, "
          f"recall {chosen['dev_recall']}; synthetic dev FPR {chosen['synthetic_dev_fpr']}, "
          f"recall {chosen['synthetic_dev_recall']} [{time.perf_counter() - started:.0f} s]")
    heads = fit_heads(design, rows, np.ones(len(rows), dtype=bool))
    meta = {
        "split": {
            "moderation": f"by prompt index, same for every language: index % {D.SPLIT_MODULUS} in {list(D.TEST_REMAINDERS)} is test",
            "xstest": "test only, never trained on",
            "synthetic": f"synth.generate(seed={SYNTH_SEED}), training only",
        },
        "training": {
            "n_moderation": sum(r.index >= 0 for r in rows),
            "n_synthetic": sum(r.index < 0 for r in rows),
            "vocabulary": len(design.vocab),
            "C": C, "C_overall": C_OVERALL, "blend": BLEND, "min_df": MIN_DF, "nb_alpha": NB_ALPHA, "cv_folds": CV_FOLDS,
            "max_dev_fpr": MAX_DEV_FPR,
            "threshold_cv": chosen,
            "scikit_learn": sklearn.__version__,
        },
    }
    doc = to_artifact(design, heads, threshold, meta)
    args.out.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) [{time.perf_counter() - started:.0f} s]")
    if not args.no_eval:
        # Measured with the runtime guard read back from the artifact: what ships.
        result = evaluate(EmbeddedGuard.load(args.out), args.data)
        doc["test"] = result
        args.out.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
        print(table(result))
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
