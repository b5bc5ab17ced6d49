"""The ``standard`` suite: ~320 cases over every scenario, 18 characters, five languages.

Cases are assembled here from the texts of :mod:`suitegen.standard_text`; every random choice
(speaking-rate jitter, the order of interview blocks) comes from a generator seeded by the case
id, so editing one case never changes another. Every case carries facet tags ``key:value``
(vocabulary in :data:`TAG_KEYS`; the suite README documents them).
"""
from __future__ import annotations

import zlib
from itertools import cycle

import numpy as np

from . import standard_text as T
from .cards import standard_readme
from .characters import CHARACTERS
from .neural import KokoroVoice, PiperVoice, SungVoice
from .specs import CaseSpec, P, SuiteSpec, act
from .speech import Voice as Espeak
from .timeline import Pause, Say

SEED = 20261201
# Consecutive cases of a category take consecutive characters: the eight photoreal ones (four
# people, two framings each) are spread over the cycle so every category has all four people.
CAST = ("collins", "hopper_sketch", "obama", "robot", "collins_half", "chelsea", "biden_half", "hopper_chibi",
        "collins_cel", "hopper", "fox", "obama_half", "collins_paint", "chelsea_cel", "biden", "collins_chibi",
        "hopper_clay", "hopper_half")
FAMILY = {"collins": "collins", "collins_half": "collins", "collins_cel": "collins", "collins_paint": "collins",
          "collins_chibi": "collins", "hopper": "hopper", "hopper_half": "hopper", "hopper_sketch": "hopper",
          "hopper_clay": "hopper", "hopper_chibi": "hopper", "obama": "obama", "obama_half": "obama",
          "biden": "biden", "biden_half": "biden", "chelsea": "cat", "chelsea_cel": "cat",
          "robot": "robot", "fox": "fox"}

# ------------------------------------------------------------------------------ voices
# English: one neural speaker (piper's joe, male) and WORLD reshapings of it; other languages:
# Kokoro's Japanese voices, espeak-ng for Spanish, German and Mandarin (no bundled neural voice).
VOICES: dict[str, object] = {
    "collins_en": PiperVoice(f0=1.68, formant=1.15, length_scale=0.97, sentence_pause=0.3),
    "hopper_en": PiperVoice(f0=1.45, formant=1.1, length_scale=1.1, noise_w=0.9, sentence_pause=0.5),
    # the two men: joe a little lower and slower with long pauses (Obama); deeper, darker and older (Biden)
    "obama_en": PiperVoice(f0=0.9, formant=0.97, length_scale=1.08, sentence_pause=0.55),
    "biden_en": PiperVoice(f0=0.78, f0_range=1.15, formant=0.92, length_scale=1.04, noise_w=0.9, sentence_pause=0.45),
    "cat_en": PiperVoice(f0=1.95, formant=1.25, length_scale=0.92, sentence_pause=0.3),
    "fox_en": PiperVoice(f0=1.5, formant=1.2, length_scale=0.9, sentence_pause=0.3),
    "robot_en": PiperVoice(f0_range=0.25, formant=0.96, length_scale=1.05, noise_scale=0.4, sentence_pause=0.45),
    "partner_en": PiperVoice(),
    "partner2_en": PiperVoice(f0=1.08, length_scale=0.88, sentence_pause=0.25),
    "announcer_en": PiperVoice(f0=0.85, f0_range=0.8, formant=0.95, length_scale=0.93, sentence_pause=0.4),
    "collins_ja": KokoroVoice("jf_alpha"),
    "hopper_ja": KokoroVoice("jf_gongitsune", speed=0.92, sentence_pause=0.45),
    "obama_ja": KokoroVoice("jm_kumo", speed=0.95, f0=1.06),
    "biden_ja": KokoroVoice("jm_kumo", speed=0.92, f0=0.86, formant=0.95),
    "cat_ja": KokoroVoice("jf_nezumi"),
    "fox_ja": KokoroVoice("jf_tebukuro"),
    "robot_ja": KokoroVoice("jm_kumo", f0_range=0.3),
    "partner_ja": KokoroVoice("jm_kumo"),
    "partner2_ja": KokoroVoice("jf_tebukuro", speed=1.08),
    "announcer_ja": KokoroVoice("jm_kumo", speed=1.05, f0=0.92),
}
for lang, ev in (("es", "es"), ("de", "de"), ("zh", "cmn")):
    VOICES.update({
        f"collins_{lang}": Espeak(f"{ev}+f3", 155, 55), f"hopper_{lang}": Espeak(f"{ev}+f4", 140, 45),
        f"obama_{lang}": Espeak(f"{ev}+m6", 150, 42), f"biden_{lang}": Espeak(f"{ev}+m7", 145, 32),
        f"cat_{lang}": Espeak(f"{ev}+f2", 165, 80), f"fox_{lang}": Espeak(f"{ev}+f5", 165, 70),
        f"robot_{lang}": Espeak(f"{ev}+m2", 150, 30), f"partner_{lang}": Espeak(f"{'es-419' if lang == 'es' else ev}+m3", 160, 40),
        f"partner2_{lang}": Espeak(f"{ev}+m4", 170, 45), f"announcer_{lang}": Espeak(f"{ev}+m1", 165, 35),
    })

# Prosody of each emotion, applied by every back end as far as it can (Voice.emote).
EMOTIONS = {
    "neutral": {},
    "happy": dict(rate=1.08, pitch=1.1, range=1.35, expressive=1.15),
    "sad": dict(rate=0.85, pitch=0.92, range=0.6, gain=0.7, expressive=0.8),
    "angry": dict(rate=1.1, pitch=1.04, range=1.45, expressive=1.25),
    "surprised": dict(rate=1.05, pitch=1.18, range=1.6, expressive=1.2),
    "fearful": dict(rate=1.15, pitch=1.12, range=0.8, gain=0.85, expressive=1.1),
}
EMOTION_TEXT = {
    "neutral": "a calm, neutral face", "happy": "a joyful, beaming smile", "sad": "a sad, downcast face with lowered eyes",
    "angry": "an angry frown, tense face", "surprised": "wide eyes, a surprised look", "fearful": "a frightened, worried look",
}
EMOTION_ACTION = {"happy": "smile", "surprised": "raise_eyebrows", "angry": "shake_head"}
ATTITUDE_TEXT = {
    "attentive": "listens attentively, eyes on the speaker", "warm": "listens warmly, with a friendly smile",
    "guarded": "listens guardedly, a reserved, cautious expression", "sceptical": "listens sceptically, doubtful, one eyebrow raised",
    "empathetic": "listens with empathy, concerned and gentle", "bored": "listens bored, gaze drifting, barely reacting",
}
ATTITUDE_ACTION = {"attentive": "nod", "warm": "smile", "sceptical": "raise_eyebrows", "empathetic": "nod", "bored": "look_left"}
TAG_KEYS = ("category", "emotion", "attitude", "language", "shot", "style", "voice", "partner_voice", "action",
            "feature", "probe", "source", "transition", "melody", "horizon", "timing")


def _rng(case_id: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(case_id.encode())])


def voice(character: str, language: str) -> str:
    return f"{FAMILY[character]}_{language}"


def tags(category: str, character: str, language: str | None, *, agent: str | None = None, partner: str | None = None,
         emotions=(), attitude: str | None = None, extra=()) -> tuple[str, ...]:
    c = CHARACTERS[character]
    out = [f"category:{category}"] + [f"emotion:{e}" for e in emotions]
    if attitude:
        out.append(f"attitude:{attitude}")
    if language:
        out.append(f"language:{language}")
    out += [f"shot:{c.shot}", f"style:{c.style}"]
    if agent:
        out.append(f"voice:{agent}")
    if partner:
        out.append(f"partner_voice:{partner}")
    return tuple(out + list(extra))


def _jitter(case_id: str, lo: float = 0.94, hi: float = 1.06) -> float:
    """A per-case speaking-rate factor: no two cases of a voice speak at exactly the same pace."""
    return round(float(_rng(case_id).uniform(lo, hi)), 3)


def _say(who: str, text: str, vid: str, case_id: str | None, emotion: str = "neutral", overlap: float = 0.0) -> Say:
    """An utterance in voice ``vid`` with an emotion's prosody and, unless ``case_id`` is None,
    the case's rate jitter (long interviews share their blocks' audio instead: synthesised once)."""
    emo = dict(EMOTIONS[emotion])
    if case_id is not None:
        emo["rate"] = round(emo.get("rate", 1.0) * _jitter(case_id), 3)
    return Say(who, text, overlap=overlap, voice=VOICES[vid].emote(**emo) if emo else VOICES[vid])


def _actions_used(prompts) -> tuple[str, ...]:
    return tuple(f"action:{a}" for a in sorted({p.action for p in prompts if p.action}))


class _Cast:
    """Characters for consecutive cases of a category, cycling through :data:`CAST`."""

    def __init__(self, offset: int):
        self._it = cycle(CAST[offset:] + CAST[:offset])

    def __call__(self) -> str:
        return next(self._it)


# ------------------------------------------------------------------------------ categories
def speak_cases() -> list[CaseSpec]:
    out, cast = [], _Cast(0)
    for lang in T.LANGUAGES:
        for e in T.EMOTIONS:
            for i, text in enumerate(T.SPEAK[lang][e]):
                ch = cast()
                cid = f"speak_{lang}_{e}_{i + 1:02d}"
                vid = voice(ch, lang)
                prompts = []
                if e != "neutral":
                    prompts.append(P("agent:0", text=EMOTION_TEXT[e]))
                if e in EMOTION_ACTION:
                    prompts.append(act(EMOTION_ACTION[e], "agent:0"))
                out.append(CaseSpec(cid, "speak", ch, (_say("agent", text, vid, cid, e),), language=lang, prompts=tuple(prompts),
                                    agent_voice=VOICES[vid],
                                    tags=tags("speak", ch, lang, agent=vid, emotions=(e,), extra=_actions_used(prompts))))
    for i, lines in enumerate(T.PAUSED_EN):
        ch = cast()
        cid = f"speak_en_pauses_{i + 1:02d}"
        vid = voice(ch, "en")
        script = []
        for text, pause in lines:
            script.append(_say("agent", text, vid, cid))
            if pause:
                script.append(Pause(pause))
        out.append(CaseSpec(cid, "speak", ch, tuple(script), language="en", agent_voice=VOICES[vid],
                            tags=tags("speak", ch, "en", agent=vid, emotions=("neutral",), extra=("feature:pauses",))))
    return out


def emotion_transition_cases() -> list[CaseSpec]:
    """Two utterances, the second in another emotion: each emotion 4x as start and 4x as end."""
    pairs = [(a, T.EMOTIONS[(i + s) % 6]) for s in (1, 2, 3, 4) for i, a in enumerate(T.EMOTIONS)]
    langs = ["en"] * 12 + [lang for lang in T.LANGUAGES[1:] for _ in range(3)]
    out, cast = [], _Cast(3)
    for k, ((a, b), lang) in enumerate(zip(pairs, langs)):
        ch = cast()
        cid = f"emotion_transition_{lang}_{a}_to_{b}"
        vid = voice(ch, lang)
        la, lb = T.SPEAK[lang][a], T.SPEAK[lang][b]
        script = (_say("agent", la[k % len(la)], vid, cid, a), Pause(0.8), _say("agent", lb[(k + 1) % len(lb)], vid, cid, b))
        prompts = (P("agent:0", text=EMOTION_TEXT[a]), P("agent:1", text=EMOTION_TEXT[b]))
        out.append(CaseSpec(cid, "speak", ch, script, language=lang, prompts=prompts, agent_voice=VOICES[vid],
                            tags=tags("emotion_transition", ch, lang, agent=vid, emotions=(a, b), extra=(f"transition:{a}_to_{b}",))))
    return out


def _listen_prompts(attitude: str, n_utterances: int) -> tuple[P, ...]:
    prompts = [P(f"partner:{i}", text=ATTITUDE_TEXT[attitude]) for i in range(n_utterances)]
    if attitude in ATTITUDE_ACTION:
        prompts.append(act(ATTITUDE_ACTION[attitude], f"partner:{min(1, n_utterances - 1)}"))
    return tuple(prompts)


def listen_cases() -> list[CaseSpec]:
    out, cast = [], _Cast(6)
    for attitude in T.ATTITUDES:  # English: content matched to the attitude, 7 cases each
        texts = T.LISTEN_EN[attitude]
        for i in range(7):
            ch, pid = cast(), ("partner_en", "partner2_en")[i % 2]
            cid = f"listen_en_{attitude}_{i + 1:02d}"
            lines = texts[i % len(texts)]
            prompts = _listen_prompts(attitude, len(lines))
            out.append(CaseSpec(cid, "listen", ch, tuple(_say("partner", t, pid, cid) for t in lines), language="en",
                                prompts=prompts, partner_voice=VOICES[pid],
                                tags=tags("listen", ch, "en", partner=pid, attitude=attitude, extra=_actions_used(prompts))))
    for lang in T.LANGUAGES[1:]:  # other languages: three monologues, each heard with three attitudes
        for i in range(9):
            attitude = T.ATTITUDES[(i + T.LANGUAGES.index(lang)) % 6]
            ch, pid = cast(), "partner_" + lang
            cid = f"listen_{lang}_{attitude}_{i + 1:02d}"
            lines = T.LISTEN[lang][i % 3]
            prompts = _listen_prompts(attitude, len(lines))
            out.append(CaseSpec(cid, "listen", ch, tuple(_say("partner", t, pid, cid) for t in lines), language=lang,
                                prompts=prompts, partner_voice=VOICES[pid],
                                tags=tags("listen", ch, lang, partner=pid, attitude=attitude, extra=_actions_used(prompts))))
    return out


def offscreen_cases() -> list[CaseSpec]:
    """Only heard speech (TV, radio, a voicemail): any lip motion that follows it is a failure."""
    out, cast = [], _Cast(9)
    for lang in T.LANGUAGES:
        texts = T.OFFSCREEN[lang]
        n = 12 if lang == "en" else 3
        for i in range(n):
            ch = cast()
            source, text = texts[i % len(texts)]
            pid = "announcer_" + lang if i % 2 == 0 else "partner2_" + lang
            cid = f"offscreen_{lang}_{source}_{i + 1:02d}"
            out.append(CaseSpec(cid, "listen", ch, (_say("partner", text, pid, cid),), language=lang, partner_voice=VOICES[pid],
                                tags=tags("offscreen_probe", ch, lang, partner=pid, extra=("probe:offscreen_audio", f"source:{source}"))))
    return out


def silence_cases() -> list[CaseSpec]:
    """No audio; text prompts only: every action alone, in sequences with spread timing, in
    overlapping combinations, free-form emotion prompts, and idle cases with no prompt."""
    from lpmbench.case import ACTIONS

    out, cast = [], _Cast(2)

    def add(cid: str, duration: float, prompts: tuple, extra=(), emotions=()):
        ch = cast()
        out.append(CaseSpec(cid, "silence", ch, duration=duration, prompts=prompts,
                            tags=tags("silence_actions", ch, None, emotions=emotions, extra=_actions_used(prompts) + tuple(extra))))

    for i, a in enumerate(ACTIONS):  # alone, early / middle / late in the case
        start = (1.0, 3.5, 5.5)[i % 3]
        add(f"silence_single_{a}", 8.0, (act(a, (start, start + 2.0)),), (f"timing:{('early', 'middle', 'late')[i % 3]}",))
    for i in range(8):  # sequences: three or four actions, spans 0.8-3 s, gaps 0.5-3 s
        rng = _rng(f"silence_sequence_{i}")
        acts = [ACTIONS[j] for j in rng.permutation(len(ACTIONS))[: 3 + i % 2]]
        t, prompts = 0.8, []
        for a in acts:
            span = round(float(rng.uniform(0.8, 3.0)), 1)
            prompts.append(act(a, (round(t, 1), round(t + span, 1))))
            t += span + float(rng.uniform(0.5, 3.0))
        add(f"silence_sequence_{i + 1:02d}", float(np.ceil(t + 0.5)), tuple(prompts), ("timing:spread",))
    combos = (("smile", "nod"), ("raise_eyebrows", "look_left"), ("smile", "close_eyes"), ("shake_head", "raise_eyebrows"),
              ("look_right", "smile"), ("nod", "raise_eyebrows"), ("close_eyes", "nod"), ("look_left", "shake_head"))
    for i, (a, b) in enumerate(combos):  # two actions at once, the second starting half-way through the first
        add(f"silence_combo_{a}_{b}", 8.0, (act(a, (1.5, 4.5)), act(b, (3.0, 5.5))), ("feature:combination",))
    free = (("happy", "surprised"), ("sad", "neutral"), ("angry", "happy"), ("fearful", "neutral"))
    for a, b in free:  # free-form text prompts (for text-conditioned models; CLIP scores them)
        add(f"silence_text_{a}_{b}", 9.0, (P((1.0, 4.5), text=EMOTION_TEXT[a]), P((5.0, 8.5), text=EMOTION_TEXT[b])), emotions=(a, b))
    for i, d in enumerate((6.0, 10.0, 15.0)):
        add(f"silence_idle_{i + 1:02d}", d, (), ("feature:idle",))
    return out


def duplex_cases() -> list[CaseSpec]:
    out, cast = [], _Cast(5)
    plan = [("en", s, v) for v in range(2) for s in T.DUPLEX_EN] + [(lang, s, v) for lang in T.LANGUAGES[1:] for v in range(2) for s in T.DUPLEX[lang]]
    for n, (lang, (feature, turns), variant) in enumerate(plan):
        ch = cast()
        attitude = T.ATTITUDES[n % 6]
        vid, pid = voice(ch, lang), ("partner_", "partner2_")[variant] + lang
        idx = (T.DUPLEX_EN if lang == "en" else T.DUPLEX[lang]).index((feature, turns))
        cid = f"duplex_{lang}_{feature}_{idx + 1:02d}{'ab'[variant]}"
        script, prompts, n_partner, n_agent = [], [], 0, 0
        for who, text, overlap in turns:
            if who == "a":
                script.append(_say("agent", text.lstrip("~"), vid, cid, overlap=overlap))
                if text.startswith("~") and n_partner:  # a backchannel: nod while saying it
                    prompts.append(act("nod", f"agent:{n_agent}"))
                n_agent += 1
            else:
                script.append(_say("partner", text, pid, cid, overlap=overlap))
                prompts.append(P(f"partner:{n_partner}", text=ATTITUDE_TEXT[attitude]))
                n_partner += 1
        features = ["feature:turn_taking"] + ([f"feature:{feature}"] if feature != "turn_taking" else [])
        out.append(CaseSpec(cid, "duplex", ch, tuple(script), language=lang, prompts=tuple(prompts), agent_voice=VOICES[vid],
                            partner_voice=VOICES[pid], lead_in=0.4,
                            tags=tags("duplex", ch, lang, agent=vid, partner=pid, attitude=attitude,
                                      extra=tuple(features) + _actions_used(prompts))))
    return out


LONG_PLAN = [("en", 300)] * 12 + [("en", 600), ("en", 1200), ("es", 300), ("es", 600), ("de", 300), ("de", 300), ("zh", 300), ("zh", 300)]
SPEECH_RATE = {"en": 2.8, "es": 3.0, "de": 2.6, "zh": 4.5}  # words (zh: characters) per second, an upper estimate


def _estimate(text: str, lang: str) -> float:
    units = len([c for c in text if "\u4e00" <= c <= "\u9fff"]) if lang == "zh" else len(text.split())
    return units / SPEECH_RATE[lang] + 0.6  # + the gap before it


def long_cases() -> list[CaseSpec]:
    """Interviews of 5 to 20 minutes: question-and-answer blocks in a seeded order, with longer
    partner stories (the character listens), thinking pauses and an occasional interruption."""
    out, cast = [], _Cast(11)
    for n, (lang, target) in enumerate(LONG_PLAN):
        ch = cast()
        attitude = T.ATTITUDES[n % 6]
        vid, pid = voice(ch, lang), ("partner_", "partner2_")[n % 2] + lang
        cid = f"long_{lang}_{target // 60:02d}min_{n + 1:02d}"
        rng = _rng(cid)
        bank, stories = T.INTERVIEW[lang], T.STORIES[lang]
        script, prompts, est, n_p, n_a, k = [], [], 0.5, 0, 0, 0
        while est < target * 1.5:  # more than enough: the case is filled to its length and the rest dropped
            if k % len(bank) == 0:
                order = rng.permutation(len(bank))
            q, a = bank[order[k % len(bank)]]
            k += 1
            script.append(_say("partner", q, pid, None))
            prompts.append(P(f"partner:{n_p}", text=ATTITUDE_TEXT[attitude]))
            n_p += 1
            interrupt = rng.uniform() < 0.12
            script.append(_say("agent", a, vid, None, overlap=0.6 if interrupt else 0.0))
            if k % 4 == 0:
                prompts.append(act(("nod", "smile", "raise_eyebrows", "look_right")[(k // 4) % 4], f"agent:{n_a}"))
            n_a += 1
            est += _estimate(q, lang) + _estimate(a, lang)
            if k % 7 == 0:  # the partner tells a story: a long stretch of listening
                for line in stories[(k // 7) % len(stories)]:
                    script.append(_say("partner", line, pid, None))
                    est += _estimate(line, lang)
                    n_p += 1
                prompts.append(act("nod", f"partner:{n_p - 1}"))
            elif rng.uniform() < 0.3:
                pause = round(float(rng.uniform(2.0, 8.0)), 1)
                script.append(Pause(pause))
                est += pause
        out.append(CaseSpec(cid, "duplex", ch, tuple(script), language=lang, fill=float(target), prompts=tuple(prompts),
                            agent_voice=VOICES[vid], partner_voice=VOICES[pid],
                            tags=tags("long_horizon", ch, lang, agent=vid, partner=pid, attitude=attitude,
                                      extra=(f"horizon:{target // 60}min", "feature:turn_taking") + _actions_used(prompts))))
    return out


def singing_cases() -> list[CaseSpec]:
    """Lyrics sung to traditional tunes: slow neural (or espeak-ng) speech, WORLD-converted."""
    out, cast = [], _Cast(8)
    plan = [("en", s) for _ in range(3) for s in T.SONGS["en"]] + [(lang, s) for lang in T.LANGUAGES[1:] for s in T.SONGS[lang]]
    for n, (lang, (tune, lyric)) in enumerate(plan):
        ch = cast()
        vid = voice(ch, lang)
        base = VOICES[vid].emote(rate=0.8)
        cid = f"singing_{lang}_{tune}_{n + 1:02d}"
        bpm = (96, 104, 112)[n % 3]
        sung = SungVoice(base, tune, T.TUNES[tune], bpm)
        prompts = (P("agent:0", text="sings a song, expressive"),)
        out.append(CaseSpec(cid, "speak", ch, (Say("agent", lyric, voice=sung),), language=lang, prompts=prompts, agent_voice=base,
                            tags=tags("singing", ch, lang, agent=vid, extra=(f"melody:{tune}",))))
    return out


STANDARD = SuiteSpec(
    name="standard",
    description=(
        "The ranking suite: about 320 cases at 512x512, 25 fps, over speaking (neutral and five emotions), listening "
        "with six attitudes, text-prompted actions in silence, duplex conversations (turn-taking, interruptions, "
        "backchannels), emotion transitions, off-screen-audio probes, singing and twenty long-horizon interviews "
        "of 5 to 20 minutes; 18 characters (photoreal, stylized, non-humanoid; close-up, half-body, full-body); "
        "English, Spanish, German, Mandarin and Japanese. Every case is tagged with its facets (key:value)."
    ),
    resolution=512,
    fps=25,
    characters=tuple(dict.fromkeys(CAST)),
    cases=tuple(speak_cases() + emotion_transition_cases() + listen_cases() + offscreen_cases() + silence_cases()
                + duplex_cases() + singing_cases() + long_cases()),
    seed=SEED,
    readme=standard_readme,
)
