"""What the bundled suites contain: characters, cases, scripts of speech, prompts and tags.

Times of prompts are either absolute ``(start, end)`` seconds or ``"agent:N"`` / ``"partner:N"``,
the span of that side's N-th utterance (so a nod lines up with the words "yes, I agree").
"""
from __future__ import annotations

from dataclasses import dataclass

from .speech import Voice
from .timeline import Event, Pause, Say

# Natural-language descriptions given with vocabulary actions (for text-conditioned models).
ACTION_TEXT = {
    "nod": "nods",
    "shake_head": "shakes the head",
    "smile": "smiles",
    "raise_eyebrows": "raises the eyebrows",
    "look_left": "looks to the left",
    "look_right": "looks to the right",
    "close_eyes": "closes the eyes",
}

# Voices per (character, language) for the agent and per language for the partner.
AGENT_VOICES = {
    ("astronaut", "en"): Voice("en-us+f3", speed=160, pitch=55),
    ("astronaut", "es"): Voice("es+f3", speed=155, pitch=55),
    ("astronaut", "de"): Voice("de+f3", speed=150, pitch=55),
    ("astronaut_cel", "en"): Voice("en-us+f2", speed=165, pitch=65),
    ("astronaut_cel", "es"): Voice("es+f2", speed=160, pitch=65),
    ("chelsea", "en"): Voice("en-us+f4", speed=165, pitch=80),
}
PARTNER_VOICES = {
    "en": Voice("en-gb+m3", speed=165, pitch=40),
    "es": Voice("es-419+m3", speed=160, pitch=40),
    "de": Voice("de+m3", speed=150, pitch=40),
}
# A newsreader heard off screen (radio or TV): a different, steady voice.
ANNOUNCER = {"en": Voice("en-us+m1", speed=170, pitch=35), "es": Voice("es+m1", speed=165, pitch=35)}

# Prosody for emotion probes (espeak-ng has no emotion model: pitch, rate and loudness carry it).
HAPPY = {"speed": 180, "pitch": 75}
SAD = {"speed": 125, "pitch": 30, "amplitude": 80}
ANGRY = {"speed": 180, "pitch": 40, "amplitude": 170}
SURPRISED = {"speed": 170, "pitch": 85}


# Action prompts tied to an utterance cover at most its first MAX_ACTION_SPAN seconds: a
# "nod" prompt over a 10 s sentence would be satisfied by almost any head motion.
MAX_ACTION_SPAN = 3.0


@dataclass(frozen=True)
class P:
    """A prompt: a vocabulary ``action`` or free-form ``text``, over ``at``."""

    at: tuple[float, float] | str
    action: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class CaseSpec:
    id: str
    mode: str
    character: str
    script: tuple[Event, ...] = ()
    duration: float | None = None  # None: whole seconds covering the script (see timeline.auto_duration)
    min_duration: float = 0.0
    language: str | None = None
    prompts: tuple[P, ...] = ()
    tags: tuple[str, ...] = ()
    partner_voice: Voice | None = None  # default: PARTNER_VOICES[language]
    agent_voice: object = None  # default: AGENT_VOICES[(character, language)]
    lead_in: float = 0.5  # seconds of silence before the first utterance
    # a long case of exactly this many seconds: the script plays while it fits, the rest (and
    # prompts on utterances that did not fit) is dropped
    fill: float | None = None


@dataclass(frozen=True)
class SuiteSpec:
    name: str
    description: str
    resolution: int
    fps: int
    characters: tuple[str, ...]
    cases: tuple[CaseSpec, ...]
    seed: int = 20261125
    max_case_duration: float | None = None  # a hard limit (smoke: 5 s), checked while building
    extra_readme: str = ""
    # (suite, manifest, timelines, faces) -> README text; None: the layout of smoke and mini
    readme: object = None


def whole(*actions: str, start: float = 0.5, span: float = 1.6, gap: float = 0.5) -> tuple[P, ...]:
    """Consecutive action prompts of ``span`` seconds separated by ``gap`` seconds."""
    out, t = [], start
    for a in actions:
        out.append(P((round(t, 2), round(t + span, 2)), action=a, text=ACTION_TEXT[a]))
        t += span + gap
    return tuple(out)


def act(action: str, at: tuple[float, float] | str) -> P:
    return P(at, action=action, text=ACTION_TEXT[action])


# --------------------------------------------------------------------------------------------
# smoke: six tiny cases, one of each mode at least, for tests and CI (256x256).
SMOKE = SuiteSpec(
    name="smoke",
    description=(
        "Six cases of at most 5 s at 256x256, 25 fps: one per mode (speak, listen, silence, duplex) "
        "plus a stylized speaker and a non-humanoid character. For tests and CI, not for ranking."
    ),
    resolution=256,
    fps=25,
    max_case_duration=5.0,
    characters=("astronaut", "astronaut_cel", "chelsea"),
    cases=(
        CaseSpec("smoke_speak", "speak", "astronaut", (Say("agent", "Hello! This is a quick test of a talking face."),),
                 language="en", tags=("emotion:neutral",)),
        CaseSpec("smoke_listen", "listen", "astronaut",
                 (Say("partner", "Can you hear me? I am talking to you from off screen."),),
                 language="en", tags=("probe:offscreen_audio",), partner_voice=ANNOUNCER["en"]),
        CaseSpec("smoke_silence", "silence", "astronaut", duration=4.0,
                 prompts=(act("nod", (0.5, 1.8)), act("smile", (2.3, 3.8)))),
        CaseSpec("smoke_duplex", "duplex", "astronaut",
                 (Say("agent", "Hi!"), Say("partner", "Hello! How are you?"), Say("agent", "Great!")),
                 language="en", tags=("turns",), lead_in=0.3),
        CaseSpec("smoke_speak_stylized", "speak", "astronaut_cel", (Say("agent", "Time to draw a rocket!", prosody=HAPPY),),
                 language="en", tags=("emotion:happy",)),
        CaseSpec("smoke_silence_cat", "silence", "chelsea", duration=3.0,
                 prompts=(act("look_left", (0.5, 2.0)),), tags=("non_humanoid",)),
    ),
)

# --------------------------------------------------------------------------------------------
# mini: about ten minutes over 25 cases, three characters, three languages, all modes.
LONG_INTERVIEW: tuple[Event, ...] = (
    Say("partner", "Commander, thank you for joining us today. Let's start at the beginning. When did you first know that you wanted to fly?"),
    Say("agent", "I was about nine years old. My family took me to an air show, and I watched the jets roll across the sky. "
        "I remember thinking, one day, that will be me up there. It took a long time, but I never let go of that picture."),
    Say("partner", "And was it hard to get started?"),
    Say("agent", "Very hard. We did not have much money, so I worked part time and saved every dollar for flying lessons. "
        "Some weeks I could only afford thirty minutes in the air. But every lesson taught me something new."),
    Say("partner", "Many people say the training for space is even harder than the flight itself. Is that true?"),
    Say("agent", "In a way, yes. We practise every step hundreds of times. We train in pools to feel weightless, we study every "
        "switch in the cockpit, and we rehearse what to do when things go wrong. By launch day, the routine feels almost calm."),
    Say("partner", "Almost calm? Even with millions of pounds of fuel underneath you?"),
    Say("agent", "Well, your heart still beats fast. But you trust your crew, and you trust the people on the ground. That trust is everything."),
    Pause(3.0),
    Say("partner", "Tell me about the moment of launch."),
    Say("agent", "First you feel the main engines light. The whole vehicle sways a little. Then the boosters ignite, and there is no "
        "doubt at all: you are going somewhere. The noise is huge, and the shaking is strong, for about two minutes."),
    Say("partner", "And then?"),
    Say("agent", "Then the boosters separate, and the ride becomes smooth, like a fast train. Eight and a half minutes after launch "
        "the engines stop, and suddenly your checklist floats up in front of your face. That is when you know you are in space."),
    Say("partner", "What did you see when you first looked out of the window?"),
    Say("agent", "The Earth, so bright and blue that it almost hurt my eyes. Clouds, oceans, the thin line of the atmosphere. "
        "You realise how fragile it is. There are no borders up there."),
    Say("partner", "That sounds like a life changing moment. I imagine it stays with you for"),
    Say("agent", "It was. It really was.", overlap=0.7),  # the agent interrupts
    Say("partner", "You were the first woman to pilot the space shuttle. How did that feel?"),
    Say("agent", "I felt proud, of course, but mostly I felt responsible. I knew that many young women were watching, and I wanted "
        "to do the job well, so that the next pilot would simply be a pilot, not the first anything."),
    Say("partner", "Did you ever feel afraid?"),
    Say("agent", "Fear is normal. The trick is to turn it into attention. When I was nervous, I went back to the checklist, "
        "one step at a time. Focus is the best cure for fear."),
    Pause(4.0),
    Say("partner", "Let's talk about daily life in orbit. What is the hardest thing to get used to?"),
    Say("agent", "Sleeping! There is no up or down, so you zip yourself into a bag on the wall. At first your arms float in front "
        "of you, and you wake up wondering whose hands those are.", prosody=HAPPY),
    Say("partner", "That's funny. And eating?"),
    Say("agent", "Eating is a game. Crumbs are dangerous because they float into the equipment, so we use tortillas instead of "
        "bread. And if you let go of your spoon, it drifts away, and someone across the cabin catches it."),
    Say("partner", "What did you miss most from home?"),
    Say("agent", "My family, of course. And the small things. The smell of rain, a hot shower, the feeling of sitting on a chair. "
        "When you come back, even gravity feels like a gift, although it makes everything heavy.", prosody={"speed": 145, "pitch": 45}),
    Say("partner", "How long did it take to walk normally again?"),
    Say("agent", "A few days. The first evening I dropped my keys, and I was surprised that they fell. My brain still expected them to float."),
    Say("partner", "If a young person watching us today wants to become an astronaut, what should they do?"),
    Say("agent", "Learn as much as you can, in science, in engineering, in medicine, whatever you love. Stay curious, stay healthy, "
        "and learn to work in a team. And please, never give up because someone says it is impossible."),
    Say("partner", "Do you think people will live on the Moon or on Mars in our lifetime?"),
    Say("agent", "I think we will see people living and working on the Moon, yes. Mars is harder. It is very far away, and the "
        "journey takes many months. But every generation has surprised the one before it."),
    Say("partner", "What is the one thing you always took with you on a mission?"),
    Say("agent", "A small photo of my family, and a letter from my daughter. I kept them in my pocket, so they were always close to me."),
    Say("partner", "One last question. Would you go again?"),
    Say("agent", "Tomorrow morning, if they asked me! Space changed the way I see our planet, and I would love to see it one more time.",
        prosody=HAPPY),
    Say("partner", "Commander, thank you so much for your time."),
    Say("agent", "Thank you. It was a pleasure talking with you."),
    Say("partner", "And that is all for today. Goodbye, everyone!"),
)

FRIENDS_CHAT: tuple[Event, ...] = (
    Say("agent", "Hey, it's good to see you! How was your week?", prosody=HAPPY),
    Say("partner", "Busy, but good. I finally finished the garden project. How about you?"),
    Say("agent", "Oh, mine was crazy. We had three launch rehearsals in two days, and one of them went wrong at the very last minute."),
    Say("partner", "Wait, what happened?"),
    Say("agent", "A sensor reported a leak, so we stopped the countdown. It turned out to be a loose cable. "
        "Nothing dangerous, but we had to start again from the top."),
    Say("partner", "That sounds exhausting. Do you want to come over on Saturday? We could cook dinner in the garden."),
    Say("agent", "I would love that! Should I bring something? I could make my famous lemon cake."),
    Say("partner", "Yes, please bring the cake! Everybody still talks about the last one.", overlap=0.8),  # interruption
    Say("agent", "Ha, okay, then I have no choice. What time should I come?"),
    Say("partner", "Around six. The sun sets late now, so we can sit outside for a long time, and watch the stars come out."),
    Say("agent", "Perfect. I'll bring the cake, and maybe some lemonade too. And my small telescope, if you like."),
    Say("partner", "Great idea. The kids will love it. See you on Saturday, then!"),
    Say("agent", "See you Saturday. Take care!"),
)

MINI = SuiteSpec(
    name="mini",
    description=(
        "About ten minutes over 25 cases at 512x512, 25 fps: three characters (photoreal, stylized, "
        "non-humanoid), speak / listen / silence / duplex modes, English, Spanish and German speech, "
        "emotion probes, an off-screen-audio probe, every vocabulary action, a 64 s multi-turn "
        "conversation and a 5-minute long-horizon interview. Sized to run on a 2-core CPU."
    ),
    resolution=512,
    fps=25,
    characters=("astronaut", "astronaut_cel", "chelsea"),
    cases=(
        # ---- speak: the character talks from its own audio
        CaseSpec("speak_en_intro", "speak", "astronaut",
                 (Say("agent", "Hello, I'm Commander Collins. Today I'd like to tell you what it feels like to launch into space. "
                      "The engines rumble, the whole cabin shakes, and then, suddenly, everything is calm."),),
                 language="en", tags=("emotion:neutral",)),
        CaseSpec("speak_en_happy", "speak", "astronaut",
                 (Say("agent", "Oh, this is wonderful news! We did it, the mission was a complete success! "
                      "I am so proud of the whole team, and I can't stop smiling!", prosody=HAPPY),),
                 language="en", tags=("emotion:happy",),
                 prompts=(P((0.5, 6.0), text="a joyful, beaming smile"), act("smile", (1.0, 4.0)))),
        CaseSpec("speak_en_sad", "speak", "astronaut",
                 (Say("agent", "I'm sorry. I just heard that the flight has been cancelled. We trained for years, and now, "
                      "it's over. I really thought we would make it this time.", prosody=SAD),),
                 language="en", tags=("emotion:sad",),
                 prompts=(P((0.5, 8.0), text="a sad, downcast face with lowered eyes"),)),
        CaseSpec("speak_en_angry", "speak", "astronaut",
                 (Say("agent", "No. This is not acceptable! Who approved this change without telling the crew? "
                      "I want answers, and I want them now!", prosody=ANGRY),),
                 language="en", tags=("emotion:angry",),
                 prompts=(P((0.5, 6.0), text="an angry frown, tense face"), act("shake_head", "agent:0"))),
        CaseSpec("speak_en_surprised", "speak", "astronaut",
                 (Say("agent", "Wait, what? You're telling me they found water? Right there, under the ice? That's incredible!",
                      prosody=SURPRISED),),
                 language="en", tags=("emotion:surprised",),
                 prompts=(act("raise_eyebrows", (0.5, 2.5)), P((0.5, 5.0), text="wide eyes, a surprised look"))),
        CaseSpec("speak_es_station", "speak", "astronaut",
                 (Say("agent", "Hola, me llamo Eileen. Hoy quiero hablar de la vida en la estación espacial. "
                      "Dormimos flotando, y cada día vemos salir el sol dieciséis veces."),),
                 language="es", tags=("emotion:neutral",)),
        CaseSpec("speak_de_food", "speak", "astronaut",
                 (Say("agent", "Guten Tag! Ich möchte Ihnen heute erzählen, wie wir im Weltraum essen. "
                      "Alles ist in kleinen Beuteln verpackt, und nichts darf davonschweben."),),
                 language="de", tags=("emotion:neutral",)),
        CaseSpec("speak_en_stylized", "speak", "astronaut_cel",
                 (Say("agent", "Welcome back to the studio! Today we're drawing a rocket. First a long body, "
                      "then two little fins, and finally a bright orange flame."),),
                 language="en", tags=("emotion:neutral",)),
        CaseSpec("speak_es_stylized_happy", "speak", "astronaut_cel",
                 (Say("agent", "¡Qué alegría verte de nuevo! Vamos a dibujar juntos un cohete muy grande y muy rápido.",
                      prosody=HAPPY),),
                 language="es", tags=("emotion:happy",), prompts=(act("smile", "agent:0"),)),
        CaseSpec("speak_en_cat", "speak", "chelsea",
                 (Say("agent", "Meow. I am Chelsea, and this is my house. I sleep in the sun, I chase the red dot, "
                      "and I always get dinner first."),),
                 language="en", tags=("emotion:neutral", "non_humanoid")),
        CaseSpec("speak_en_pauses", "speak", "astronaut",
                 (Say("agent", "Let me think about that."), Pause(2.0), Say("agent", "The first step is the checklist."),
                  Pause(1.5), Say("agent", "Then we wait for the green light from mission control."), Pause(2.5),
                  Say("agent", "And then, we go.")),
                 language="en", tags=("pauses",)),
        CaseSpec("speak_en_actions", "speak", "astronaut",
                 (Say("agent", "Yes, I agree with the plan."), Pause(0.8),
                  Say("agent", "No, we should not skip the safety checks."), Pause(0.8),
                  Say("agent", "Look over there, that's the launch pad.")),
                 language="en", prompts=(act("nod", "agent:0"), act("shake_head", "agent:1"), act("look_right", "agent:2"))),
        # ---- listen: the character hears its partner and must not lip-sync to it
        CaseSpec("listen_en_backchannel", "listen", "astronaut",
                 (Say("partner", "So, I was walking to work this morning."),
                  Say("partner", "And I saw a tiny dog chasing a huge red balloon down the street."),
                  Say("partner", "Everybody stopped to watch, and then the balloon landed right on a police car!")),
                 language="en", tags=("backchannel",),
                 prompts=(act("nod", "partner:1"), act("smile", "partner:2"))),
        CaseSpec("listen_en_offscreen", "listen", "astronaut",
                 (Say("partner", "Good evening. Here is the weather forecast for tomorrow. Heavy rain in the north, "
                      "sunshine in the south, and strong winds along the coast."),),
                 language="en", tags=("probe:offscreen_audio",), partner_voice=ANNOUNCER["en"]),
        CaseSpec("listen_es_offscreen_stylized", "listen", "astronaut_cel",
                 (Say("partner", "Buenas noches. Estas son las noticias de hoy. El nuevo telescopio ha enviado sus primeras "
                      "imágenes, y los científicos están muy contentos."),),
                 language="es", tags=("probe:offscreen_audio",), partner_voice=ANNOUNCER["es"]),
        CaseSpec("listen_de_cat", "listen", "chelsea",
                 (Say("partner", "Na, du kleine Katze, hast du Hunger?"),
                  Say("partner", "Komm her, ich habe etwas Feines für dich. Du bist wirklich die schönste Katze der Welt.")),
                 language="de", tags=("non_humanoid",), prompts=(act("look_left", "partner:0"), act("close_eyes", "partner:1"))),
        # ---- silence: no audio; text prompts drive the motion (or nothing: idle)
        CaseSpec("silence_idle", "silence", "astronaut", duration=10.0, tags=("idle",)),
        CaseSpec("silence_actions_a", "silence", "astronaut", duration=12.0,
                 prompts=(act("nod", (1.0, 3.0)), act("shake_head", (4.5, 6.5)), act("smile", (8.0, 10.5)))),
        CaseSpec("silence_actions_b", "silence", "astronaut", duration=14.0,
                 prompts=(act("raise_eyebrows", (1.0, 3.0)), act("look_left", (4.0, 6.0)), act("look_right", (7.5, 9.5)),
                          act("close_eyes", (11.0, 13.0)))),
        CaseSpec("silence_actions_stylized", "silence", "astronaut_cel", duration=16.0,
                 prompts=whole("nod", "shake_head", "smile", "raise_eyebrows", "look_left", "look_right", "close_eyes")),
        CaseSpec("silence_emotion_text", "silence", "astronaut", duration=8.0,
                 tags=("emotion:surprised", "emotion:happy"),
                 prompts=(P((1.0, 4.0), text="looks very surprised, mouth slightly open"),
                          P((4.5, 7.5), text="a warm, happy smile"))),
        CaseSpec("silence_actions_cat", "silence", "chelsea", duration=10.0, tags=("non_humanoid",),
                 prompts=(act("look_left", (1.0, 3.0)), act("look_right", (4.0, 6.0)), act("close_eyes", (7.0, 9.0)))),
        # ---- duplex: both sides on separate tracks, alternating turns
        CaseSpec("duplex_en_turns", "duplex", "astronaut", FRIENDS_CHAT, min_duration=60.0, language="en",
                 tags=("turns", "interruption", "emotion:happy"),
                 prompts=(act("nod", "partner:2"), act("smile", "agent:3"))),
        CaseSpec("duplex_es_stylized", "duplex", "astronaut_cel",
                 (Say("agent", "¡Hola! ¿Quieres dibujar conmigo hoy?"),
                  Say("partner", "¡Claro que sí! ¿Qué vamos a dibujar?"),
                  Say("agent", "Un cohete muy grande, con alas rojas y una ventana redonda."),
                  Say("partner", "Me encanta. ¿Y de qué color es el fuego?"),
                  Say("agent", "Naranja y amarillo, como el sol por la tarde.")),
                 language="es", tags=("turns",), prompts=(act("nod", "partner:1"),)),
        CaseSpec("long_horizon_interview", "duplex", "astronaut", LONG_INTERVIEW, min_duration=300.0, language="en",
                 tags=("long_horizon", "turns", "interruption"),
                 prompts=(act("nod", "partner:2"), act("raise_eyebrows", "partner:3"), act("look_left", "partner:8"),
                          act("smile", "agent:10"), act("nod", "partner:14"), act("smile", "agent:17"))),
    ),
)

SUITES = {s.name: s for s in (SMOKE, MINI)}
