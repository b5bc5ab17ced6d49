"""What the characters of the ``standard`` suite say and hear: every line, in every language.

Data only (the assembly is :mod:`suitegen.standard`). All texts were written for lpmbench and are
released, with the audio made from them, under CC0-1.0. Song lyrics are sung to traditional
(public-domain) tunes; the lyrics themselves are new.
"""
from __future__ import annotations

LANGUAGES = ("en", "es", "de", "zh", "ja")
EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "fearful")
ATTITUDES = ("attentive", "warm", "guarded", "sceptical", "empathetic", "bored")

# ---------------------------------------------------------------- speak: lines per emotion
SPEAK = {
    "en": {
        "neutral": [
            "Good morning. Today I'd like to walk you through the plan for the week, one step at a time.",
            "The train leaves at a quarter past eight, so we should meet at the station a little before that.",
            "To make bread, you mix flour, water, salt and yeast, and then you let the dough rest for an hour.",
            "The library is open until six on weekdays. On Saturdays it closes at noon.",
            "Let me explain how the new system works. You log in, choose a project, and the rest is automatic.",
            "Our guest today is a scientist who studies the ocean. She has spent many years at sea.",
        ],
        "happy": [
            "Oh, this is wonderful news! We did it, and the whole team was amazing! I can't stop smiling!",
            "Guess what? I got the job! I start on Monday, and I'm so excited I could dance!",
            "Look at this beautiful cake! Thank you all so much, this is the best birthday ever!",
            "We're going to the seaside this weekend! Sunshine, ice cream, and no work at all!",
            "You passed the exam? That's fantastic! I knew you could do it!",
            "What a lovely surprise to see you here! Come in, come in, it's been far too long!",
        ],
        "sad": [
            "I'm sorry. I just heard that the flight has been cancelled. We trained for years, and now it's over.",
            "My old dog passed away last night. The house feels so empty without him.",
            "I really thought we would win this time. I don't know what to say to the team.",
            "She moved to another country, and I didn't even get to say goodbye.",
            "Nobody came to the little concert. I played anyway, but it was hard.",
            "The garden we planted together is gone. The storm took everything.",
        ],
        "angry": [
            "No. This is not acceptable! Who approved this change without telling the crew? I want answers now!",
            "I have asked you three times to stop doing that! Why does nobody ever listen to me?",
            "You promised this would be finished today, and you haven't even started! This is ridiculous!",
            "Stop making excuses! You broke it, and you lied about it. That is what makes me furious.",
            "They cancelled the bus again, without any warning! How are people supposed to get to work?",
            "Don't you dare blame my team for your mistake! We did everything you asked!",
        ],
        "surprised": [
            "Wait, what? You're telling me they found water? Right there, under the ice? That's incredible!",
            "No way! Is that really you? I haven't seen you since school!",
            "The whole thing costs only five dollars? Are you serious? I thought it was fifty!",
            "Oh! I didn't expect a party! When did you all plan this?",
            "It snowed in the desert last night? Really? In the middle of summer?",
            "You built this robot yourself? In one weekend? I'm speechless!",
        ],
        "fearful": [
            "Did you hear that? Something is moving behind the door. Please, don't open it.",
            "The lights just went out, and the water is rising. I don't know how to get out of here.",
            "I think someone is following us. Don't look back. Just keep walking, quickly.",
            "The engine is making a strange noise, and we are still so far from land.",
            "Please tell me you know the way. It's getting dark, and I can't see the path anymore.",
            "My hands are shaking. What if the results are bad? I'm so scared to open the letter.",
        ],
    },
    "es": {
        "neutral": ["Buenos días. Hoy vamos a hablar de la vida en la estación espacial.",
                    "El museo abre a las diez y cierra a las seis de la tarde."],
        "happy": ["¡Qué alegría verte de nuevo! ¡Hoy es un día maravilloso!",
                  "¡Hemos ganado el concurso! ¡No me lo puedo creer, estoy feliz!"],
        "sad": ["Lo siento mucho. Mi abuelo se fue esta mañana y la casa está muy triste.",
                "Perdí el tren y no pude despedirme de mi hermana."],
        "angry": ["¡Esto es inaceptable! ¡Te lo he dicho mil veces y nunca escuchas!",
                  "¡Nos han cancelado el vuelo otra vez, sin ninguna explicación!"],
        "surprised": ["¿En serio? ¿Encontraste mi anillo en la playa? ¡Es increíble!",
                      "¡No puede ser! ¿Tú hiciste este pastel tan grande?"],
        "fearful": ["¿Oíste ese ruido? Hay alguien en la cocina. Tengo mucho miedo.",
                    "Se apagaron las luces y no encuentro la salida. Por favor, ayúdame."],
    },
    "de": {
        "neutral": ["Guten Tag. Heute erkläre ich Ihnen, wie wir im Weltraum essen.",
                    "Der Zug fährt um acht Uhr ab, bitte seien Sie pünktlich."],
        "happy": ["Das ist ja wunderbar! Wir haben es geschafft, ich freue mich so sehr!",
                  "Endlich Ferien! Morgen fahren wir ans Meer, ich kann es kaum erwarten!"],
        "sad": ["Es tut mir leid. Unser alter Hund ist gestern gestorben.",
                "Ich habe so lange geübt, und trotzdem hat es nicht gereicht."],
        "angry": ["Das ist eine Unverschämtheit! Warum hat mir das niemand gesagt?",
                  "Jetzt reicht es mir! Ich habe dreimal angerufen und keiner hilft!"],
        "surprised": ["Wie bitte? Du hast im Lotto gewonnen? Das glaube ich nicht!",
                      "Oh! Eine Überraschungsparty? Für mich? Wann habt ihr das geplant?"],
        "fearful": ["Hörst du das? Da ist jemand im Keller. Ich habe Angst.",
                    "Das Wasser steigt immer weiter, und wir kommen hier nicht raus."],
    },
    "zh": {
        "neutral": ["大家好。今天我想介绍一下我们这个星期的计划。",
                    "图书馆每天早上九点开门，晚上六点关门。"],
        "happy": ["太好了！我们成功了！我真的非常开心！",
                  "明天我们去海边玩，有阳光，有冰淇淋，太棒了！"],
        "sad": ["对不起，我刚听说比赛取消了。我们准备了那么久。",
                "我的老朋友搬走了，我都没来得及说再见。"],
        "angry": ["这太过分了！我已经说了三遍，为什么没有人听？",
                  "你答应今天完成的，可是你根本没有开始！"],
        "surprised": ["什么？真的吗？你一个人做了这个机器人？",
                      "天哪！外面下雪了！现在可是夏天啊！"],
        "fearful": ["你听到了吗？门后面有声音。我好害怕。",
                    "灯突然灭了，我找不到出口，请帮帮我。"],
    },
    "ja": {
        "neutral": ["おはようございます。今日の予定をご説明します。",
                    "電車は八時に出発します。"],
        "happy": ["やった！合格しました！本当にうれしいです！",
                  "明日は海に行きます！楽しみです！"],
        "sad": ["ごめんなさい。旅行は中止になりました。",
                "友達が遠くへ引っ越してしまいました。"],
        "angry": ["もう我慢できません！なぜ誰も聞かないのですか！",
                  "約束したのに、まだ何もしていないじゃないですか！"],
        "surprised": ["えっ、本当ですか？一人で作ったんですか？",
                      "まさか！外は雪が降っていますよ！"],
        "fearful": ["今の音、聞こえましたか？怖いです。",
                    "暗くて、出口が見えません。助けてください。"],
    },
}

# Speech with long pauses inside one turn (thinking aloud): (line, pause after it), ...
PAUSED_EN = [
    (("Let me think about that.", 2.0), ("The first step is the checklist.", 1.5), ("Then we wait for the green light.", 2.5), ("And then, we go.", 0.0)),
    (("Hmm. Where did I put my keys?", 2.5), ("Not in the kitchen.", 1.8), ("Maybe in my coat?", 3.0), ("Ah, there they are.", 0.0)),
    (("So, the answer is.", 1.5), ("Well, it depends.", 2.2), ("On the weather, mostly.", 1.2), ("And on the budget.", 0.0)),
    (("I remember that day very clearly.", 2.8), ("It was raining.", 1.6), ("And then the phone rang.", 2.0), ("It was my sister.", 0.0)),
]

# ---------------------------------------------------------------- listen: what the partner says
# Per attitude, monologues (lists of utterances) whose content invites that reaction.
LISTEN_EN = {
    "attentive": [
        ["Okay, here's how to get to my place.", "Take the second exit at the roundabout, then turn left after the bakery.", "My house is the blue one, number fourteen."],
        ["Before we start the experiment, listen carefully.", "Put on your goggles, and never touch the red switch.", "If anything smells strange, call me right away."],
        ["The meeting has three parts.", "First the budget, then the timeline, and finally questions from the team.", "Each part takes about ten minutes."],
        ["I'll read the numbers once.", "Four, nine, two, seven, one.", "Please write them down."],
    ],
    "warm": [
        ["I just wanted to say thank you.", "When I was new here, you were the first person who talked to me.", "It meant a lot, really."],
        ["Guess what, my daughter took her first steps today!", "She wobbled across the whole living room and laughed the entire time."],
        ["Your garden looks so beautiful this year.", "The roses by the gate are my favourite, they smell wonderful."],
        ["We're having a little dinner on Friday, nothing fancy.", "It would be lovely if you could come."],
    ],
    "guarded": [
        ["So, tell me, where exactly were you last Tuesday evening?", "Someone said they saw you near the office, quite late."],
        ["I'm going to need your password for a moment.", "It's just a quick check, nothing to worry about.", "You can trust me."],
        ["How much money do you earn, roughly?", "And who else lives in your house?"],
        ["We've noticed some files went missing.", "I'm not accusing anyone, of course.", "But you were the last person in the room."],
    ],
    "sceptical": [
        ["This little pill makes you lose ten kilos in a week.", "No diet, no exercise, doctors hate it!", "Only ninety-nine dollars, today only."],
        ["I once swam across the whole lake in ten minutes.", "Without stopping, and the water was freezing."],
        ["Trust me, this car has never had a single problem.", "The noise? Oh, that's normal, all cars do that."],
        ["Our new app reads your mind.", "It knows what you want before you do.", "Scientists are amazed."],
    ],
    "empathetic": [
        ["I didn't get the job.", "I prepared for weeks, and I really thought it went well.", "I just feel so tired now."],
        ["My grandmother is in the hospital.", "The doctors say it's serious.", "I keep thinking about all the times I didn't call her."],
        ["I've been feeling really lonely since I moved here.", "I don't know anyone, and the evenings are so long."],
        ["We lost the match in the last minute.", "I missed the penalty.", "Everyone says it's fine, but I let the team down."],
    ],
    "bored": [
        ["So the spreadsheet has forty columns.", "Column A is the date, column B is also the date, but in another format.", "Column C is empty, for now."],
        ["Then I drove to the second shop, because the first shop didn't have the right screws.", "The second shop had them, but only in packs of fifty."],
        ["Our quarterly report shows a slight increase in the number of reports.", "Which we will discuss in next quarter's report."],
        ["And that was the fourth time I reorganised my sock drawer this month.", "Now they're sorted by colour, then by length."],
    ],
}

# Other languages: neutral-content monologues; the attitude is given to the listener as a prompt.
LISTEN = {
    "es": [["Mira, ayer fui al mercado.", "Compré tomates, pan y un poco de queso para la cena."],
           ["Te voy a contar lo que pasó en el trabajo.", "El jefe llegó tarde y la reunión empezó sin él."],
           ["Mañana hace buen tiempo.", "Podemos ir al parque con los niños por la tarde."]],
    "de": [["Also, gestern war ich auf dem Markt.", "Ich habe Äpfel, Brot und ein bisschen Käse gekauft."],
           ["Ich erzähle dir, was heute im Büro passiert ist.", "Der Chef kam zu spät, und das Treffen begann ohne ihn."],
           ["Morgen wird das Wetter schön.", "Wir können am Nachmittag mit den Kindern in den Park gehen."]],
    "zh": [["你知道吗，昨天我去了市场。", "我买了西红柿、面包，还有一点奶酪。"],
           ["我跟你说说今天公司里发生的事。", "老板迟到了，会议没等他就开始了。"],
           ["明天天气很好。", "下午我们可以带孩子们去公园。"]],
    "ja": [["昨日、市場に行きました。", "パンとチーズを買いました。"],
           ["今日、会社で面白いことがありました。", "社長が遅刻しました。"],
           ["明日は天気がいいです。", "公園に行きましょう。"]],
}

# ---------------------------------------------------------------- off-screen audio: announcers
OFFSCREEN = {
    "en": [
        ("tv", "Good evening. Here is the weather forecast for tomorrow. Heavy rain in the north, sunshine in the south, and strong winds along the coast."),
        ("radio", "You're listening to morning radio. Traffic is slow on the bridge this morning, so leave a few minutes early. Next up, the news."),
        ("tv", "And the final score tonight: three goals to two. What a match! The crowd is on its feet as the players leave the pitch."),
        ("phone", "Hello, this is the dental clinic calling to remind you of your appointment on Thursday at nine thirty. Please call us back to confirm."),
        ("radio", "Chapter one. The house at the end of the lane had been empty for years. Nobody remembered who had lived there last."),
        ("tv", "Breaking news. The new space telescope has sent its first images, and scientists say they are even better than expected."),
    ],
    "es": [("tv", "Buenas noches. Estas son las noticias de hoy. El nuevo telescopio ha enviado sus primeras imágenes."),
           ("radio", "Buenos días, estás escuchando la radio. Hay mucho tráfico en el centro de la ciudad.")],
    "de": [("tv", "Guten Abend. Hier ist der Wetterbericht für morgen. Im Norden regnet es, im Süden scheint die Sonne."),
           ("radio", "Guten Morgen, Sie hören das Frühprogramm. Auf der Autobahn gibt es einen langen Stau.")],
    "zh": [("tv", "晚上好。现在播报明天的天气预报。北方有大雨，南方天气晴朗。"),
           ("radio", "早上好，欢迎收听早间广播。今天市中心交通比较拥堵。")],
    "ja": [("tv", "こんばんは。明日の天気です。北は雨、南は晴れです。"),
           ("radio", "おはようございます。朝のニュースをお伝えします。")],
}

# ---------------------------------------------------------------- duplex: conversations
# (who, text, overlap seconds) ; "a" = the character, "p" = the partner. A leading "~" marks a
# backchannel: a short agent sound laid over a pause of the partner's story.
DUPLEX_EN = [
    ("interruption", [("a", "Hey, it's good to see you! How was your week?", 0), ("p", "Busy, but good. I finally finished the garden project. How about you?", 0),
                      ("a", "Oh, mine was crazy. We had three rehearsals in two days, and one went wrong at the last minute.", 0),
                      ("p", "Wait, what happened?", 0.6), ("a", "A sensor reported a leak, so we stopped everything. It was just a loose cable.", 0),
                      ("p", "That sounds exhausting. Come over on Saturday, we could cook dinner in the garden.", 0), ("a", "I would love that!", 0)]),
    ("backchannel", [("p", "So, I was walking to work this morning.", 0), ("a", "~Mm-hm.", 0), ("p", "And I saw a tiny dog chasing a huge red balloon down the street.", 0),
                     ("a", "~Oh no.", 0), ("p", "Everybody stopped to watch, and then the balloon landed right on a police car!", 0),
                     ("a", "Ha! That's brilliant. What did the police officer do?", 0), ("p", "He just gave the balloon back to the dog's owner, completely serious.", 0)]),
    ("turn_taking", [("p", "Excuse me, is this the way to the museum?", 0), ("a", "Yes, it is. Go straight ahead, and turn right at the fountain.", 0),
                     ("p", "Is it far?", 0), ("a", "About ten minutes on foot. You can't miss it, it's a big white building.", 0),
                     ("p", "Great. Do you know if it's open on Mondays?", 0), ("a", "I think it is, but only until four.", 0), ("p", "Thank you so much!", 0), ("a", "You're welcome. Enjoy!", 0)]),
    ("interruption", [("p", "I think we should paint the kitchen yellow, and the living room blue, and maybe the hallway", 0),
                      ("a", "Hold on, hold on. Yellow? In the kitchen?", 0.8), ("p", "Why not? It's cheerful!", 0),
                      ("a", "It's very cheerful. Maybe too cheerful at six in the morning.", 0), ("p", "Okay, fair. What about a soft green?", 0),
                      ("a", "Green I can live with.", 0)]),
    ("backchannel", [("p", "My first day at the new job was strange.", 0), ("a", "~Yeah?", 0), ("p", "Nobody told me where my desk was, so I sat in the kitchen for an hour.", 0),
                     ("a", "~Oh dear.", 0), ("p", "Then the boss walked in and asked me to make coffee for everyone.", 0),
                     ("a", "No! Did you do it?", 0), ("p", "I did. Apparently it was the best coffee they'd had in years.", 0), ("a", "Well, that's a good start!", 0)]),
    ("turn_taking", [("a", "So, what would you like to order?", 0), ("p", "I'll have the tomato soup, please.", 0), ("a", "Good choice. Anything to drink?", 0),
                     ("p", "Just water, thanks. Oh, and is the bread fresh?", 0), ("a", "Baked this morning. I'll bring some right away.", 0), ("p", "Perfect.", 0)]),
    ("interruption", [("a", "The problem with the schedule is that the second team can't start until", 0), ("p", "Until the first team is finished, I know.", 0.7),
                      ("a", "Exactly. So we either hire more people, or we move the deadline.", 0), ("p", "Moving the deadline is not an option.", 0),
                      ("a", "Then we need two more engineers by next week.", 0), ("p", "Let me talk to the director.", 0)]),
    ("backchannel", [("p", "When I was a kid, we spent every summer at my grandparents' farm.", 0), ("a", "~Mm.", 0),
                     ("p", "We woke up at five to feed the chickens, and my grandmother made pancakes for everyone.", 0), ("a", "~Aw.", 0),
                     ("p", "I still remember the smell of that kitchen.", 0), ("a", "That sounds like a wonderful place to grow up.", 0)]),
    ("backchannel", [("p", "You won't believe what happened at the bakery.", 0), ("a", "~Oh?", 0),
                     ("p", "I asked for one loaf of bread, and the baker misheard me.", 0), ("a", "~Uh-huh.", 0),
                     ("p", "He packed twenty loaves and said, big party tonight?", 0), ("a", "~Ha!", 0),
                     ("p", "I was too embarrassed to say no, so now my freezer is full of bread.", 0),
                     ("a", "Well, I know who to call when I run out of bread.", 0)]),
    ("turn_taking", [("a", "Are you ready for the trip tomorrow?", 0), ("p", "Almost. I still need to pack my boots.", 0),
                     ("a", "Don't forget the rain jacket. The forecast says showers in the afternoon.", 0), ("p", "Good point. What time are we leaving?", 0),
                     ("a", "Seven sharp. I'll pick you up.", 0), ("p", "Seven? That's early! Okay, I'll set two alarms.", 0)]),
    ("interruption", [("p", "Did you hear about the new restaurant on the corner? They say the chef used to work in", 0),
                      ("a", "In Paris, yes! I went there on Friday.", 0.9), ("p", "Really? How was it?", 0),
                      ("a", "Amazing. The desserts alone are worth the trip.", 0), ("p", "Then we're going this weekend. My treat.", 0), ("a", "Deal!", 0)]),
]

DUPLEX = {
    "es": [("turn_taking", [("a", "¡Hola! ¿Quieres dibujar conmigo hoy?", 0), ("p", "¡Claro que sí! ¿Qué vamos a dibujar?", 0),
                            ("a", "Un cohete muy grande, con alas rojas.", 0), ("p", "Me encanta. ¿Y de qué color es el fuego?", 0),
                            ("a", "Naranja y amarillo, como el sol.", 0)]),
           ("interruption", [("p", "Creo que deberíamos salir temprano, porque el tráfico en la autopista siempre", 0),
                             ("a", "Siempre es horrible, lo sé.", 0.7), ("p", "Entonces, ¿a las siete?", 0), ("a", "A las siete está bien.", 0)])],
    "de": [("turn_taking", [("a", "Hallo! Hast du heute Zeit?", 0), ("p", "Ja, am Nachmittag. Was möchtest du machen?", 0),
                            ("a", "Wir könnten ins Museum gehen.", 0), ("p", "Gute Idee. Um drei Uhr?", 0), ("a", "Perfekt, bis dann!", 0)]),
           ("interruption", [("p", "Ich glaube, wir sollten die Küche gelb streichen, und das Wohnzimmer", 0),
                             ("a", "Moment mal, gelb?", 0.7), ("p", "Warum nicht? Das ist fröhlich!", 0), ("a", "Vielleicht ein bisschen zu fröhlich.", 0)])],
    "zh": [("turn_taking", [("a", "你好！今天有空吗？", 0), ("p", "下午有空。你想做什么？", 0),
                            ("a", "我们可以去博物馆。", 0), ("p", "好主意。三点怎么样？", 0), ("a", "好的，到时候见！", 0)]),
           ("interruption", [("p", "我觉得我们应该早点出发，因为高速公路上总是", 0),
                             ("a", "总是堵车，我知道。", 0.7), ("p", "那七点出发？", 0), ("a", "七点可以。", 0)])],
    "ja": [("turn_taking", [("a", "こんにちは！今日は暇ですか？", 0), ("p", "午後は暇です。", 0),
                            ("a", "博物館に行きませんか？", 0), ("p", "いいですね。", 0)]),
           ("interruption", [("p", "明日は早く出発したほうがいいと思います。道が", 0),
                             ("a", "混むからですね。", 0.6), ("p", "はい、七時にしましょう。", 0)])],
}

# ---------------------------------------------------------------- long horizon: interview blocks
# (partner question, agent answer). Long cases draw blocks from here in a seeded order.
INTERVIEW = {
    "en": [
        ("When did you first know what you wanted to do with your life?", "I was about nine. My family took me to an air show, and I watched the jets roll across the sky. I thought, one day, that will be me."),
        ("Was it hard to get started?", "Very hard. We did not have much money, so I worked part time and saved every dollar for lessons. Some weeks I could only afford thirty minutes."),
        ("What did your parents think?", "My mother was worried, of course. My father just said, if you want it, work for it. So I did."),
        ("Tell me about your training.", "We practised every step hundreds of times. We trained in pools to feel weightless, and we studied every switch in the cockpit."),
        ("Were you ever afraid?", "Fear is normal. The trick is to turn it into attention. When I was nervous, I went back to the checklist, one step at a time."),
        ("What is the hardest thing about your job?", "Being away from home. You miss birthdays, school plays, small things that you can never get back."),
        ("What do you do on a normal day?", "I start early with a run, then meetings, then simulator sessions in the afternoon. Evenings are for reading and family."),
        ("Do you have a favourite place?", "A small beach near my grandmother's house. The water is cold, but the light in the evening is magical."),
        ("What do you cook when you have guests?", "Always the same thing: a big pot of vegetable soup and fresh bread. Nobody has complained yet."),
        ("Who inspired you the most?", "My first teacher. She told me that curiosity is a muscle, and that you have to use it every day."),
        ("What book are you reading at the moment?", "A history of lighthouses, believe it or not. Every lighthouse has a story, and most of them are sad."),
        ("How do you relax?", "I play the piano, badly. It doesn't matter. For half an hour I think about nothing else."),
        ("What would you change about your city?", "More trees, more benches, and fewer cars. People should be able to sit down and talk."),
        ("What is the best advice you ever got?", "Sleep on big decisions. Almost everything looks different in the morning."),
        ("Have you ever failed at something important?", "Many times. My first exam, my first interview, my first cake. Each failure taught me more than any success."),
        ("What do you think about technology today?", "It's wonderful and tiring at the same time. I love what it can do, but I try to put the phone away at dinner."),
        ("If you could live anywhere, where would it be?", "Somewhere with mountains and a lake. And a good bakery, that's important."),
        ("What surprised you most when you started?", "How much teamwork it takes. Nothing important is ever done by one person alone."),
        ("Do you remember your first day at work?", "I got lost three times in the building, and I wore my badge upside down all morning."),
        ("What are you most proud of?", "The young people I've mentored. Seeing them succeed is better than any prize."),
        ("Is there something you still want to learn?", "Spanish, properly this time. And how to fix my own bicycle."),
        ("What does a perfect weekend look like?", "A long walk, a late breakfast, a phone call with an old friend, and an early night."),
        ("How do you deal with stress?", "I write lists. When everything is on paper, it stops spinning in my head."),
        ("What would you tell your younger self?", "Be patient. The things you worry about now will not matter in ten years."),
        ("What is your favourite season?", "Autumn. The air is fresh, the colours are beautiful, and it's the perfect weather for long walks."),
        ("Do you like to travel?", "I love it, but I travel slowly. I'd rather spend a week in one town than one day in seven cities."),
        ("What is something people don't know about you?", "I'm terrified of moths. Big, brave, and completely helpless when a moth flies into the room."),
        ("How has your work changed over the years?", "The tools are better, the computers are faster, but the questions are still the same. That's what I love about it."),
        ("What makes a good team?", "Trust, and a little humour. If people can laugh together, they can solve almost anything."),
        ("One last question. What comes next for you?", "A long holiday first. Then, who knows? I've learned that the best plans leave a little room for surprises."),
    ],
    "es": [
        ("¿Cuándo supiste lo que querías hacer?", "Cuando tenía nueve años. Vi un avión en el cielo y pensé: algún día voy a volar."),
        ("¿Fue difícil empezar?", "Muy difícil. Trabajé mucho y ahorré cada euro para mis clases."),
        ("¿Qué haces en un día normal?", "Me levanto temprano, corro un poco y luego trabajo toda la mañana."),
        ("¿Cuál es tu lugar favorito?", "Una playa pequeña cerca de la casa de mi abuela. El agua está fría, pero la luz es preciosa."),
        ("¿Cómo te relajas?", "Toco el piano, aunque muy mal. Pero durante media hora no pienso en nada más."),
        ("¿Qué consejo darías a los jóvenes?", "Que sean pacientes y curiosos, y que nunca dejen de aprender."),
        ("¿Te gusta viajar?", "Me encanta, pero viajo despacio. Prefiero una semana en un pueblo que un día en siete ciudades."),
        ("¿Qué viene ahora para ti?", "Primero unas vacaciones largas. Después, ya veremos."),
    ],
    "de": [
        ("Wann wussten Sie, was Sie werden wollten?", "Mit neun Jahren. Ich sah ein Flugzeug am Himmel und dachte: Eines Tages fliege ich auch."),
        ("War der Anfang schwer?", "Sehr schwer. Ich habe viel gearbeitet und jeden Euro für die Stunden gespart."),
        ("Wie sieht ein normaler Tag aus?", "Ich stehe früh auf, gehe joggen und arbeite dann den ganzen Vormittag."),
        ("Haben Sie einen Lieblingsort?", "Einen kleinen Strand in der Nähe vom Haus meiner Großmutter. Das Licht am Abend ist wunderschön."),
        ("Wie entspannen Sie sich?", "Ich spiele Klavier, leider nicht sehr gut. Aber für eine halbe Stunde denke ich an nichts anderes."),
        ("Welchen Rat geben Sie jungen Menschen?", "Seid geduldig und neugierig, und hört nie auf zu lernen."),
        ("Reisen Sie gern?", "Sehr gern, aber langsam. Lieber eine Woche in einem Dorf als einen Tag in sieben Städten."),
        ("Was kommt als Nächstes?", "Zuerst ein langer Urlaub. Danach sehen wir weiter."),
    ],
    "zh": [
        ("你是什么时候知道自己想做什么的？", "大概九岁的时候。我看到天上的飞机，心想，总有一天我也要飞。"),
        ("刚开始难吗？", "非常难。我打了很多工，把每一块钱都存起来上课。"),
        ("你平常的一天是什么样的？", "我很早起床，先跑步，然后工作一个上午。"),
        ("你有最喜欢的地方吗？", "奶奶家附近的一个小海滩。水很冷，但是傍晚的光特别美。"),
        ("你怎么放松？", "我弹钢琴，虽然弹得不好。但是那半个小时我什么都不想。"),
        ("你想对年轻人说什么？", "要有耐心，要有好奇心，永远不要停止学习。"),
        ("你喜欢旅行吗？", "很喜欢，但是我旅行得很慢。我宁愿在一个小镇住一个星期。"),
        ("接下来你有什么打算？", "先好好休个长假。然后再说吧。"),
    ],
}

# Longer partner stories inside long interviews (the character listens for a while).
STORIES = {
    "en": [
        ["Let me tell you something that happened to me last year.", "I was on a train, and an old man sat down next to me with a huge suitcase.",
         "He told me he was going to see his brother for the first time in forty years.", "They had argued about something so small that neither of them could remember what it was.",
         "When the train arrived, his brother was waiting on the platform, and they just stood there and hugged for a long time."],
        ["I have to share this with you.", "Yesterday my neighbour's parrot escaped, and the whole street spent the afternoon looking for it.",
         "We searched the trees, the roofs, even the school playground.", "In the end, it was sitting in my kitchen, eating my breakfast."],
    ],
    "es": [["Te cuento una historia.", "Ayer el loro de mi vecina se escapó, y toda la calle lo buscó durante la tarde.", "Al final, estaba en mi cocina, comiéndose mi desayuno."]],
    "de": [["Ich erzähle Ihnen eine Geschichte.", "Gestern ist der Papagei meiner Nachbarin entflogen, und die ganze Straße hat ihn gesucht.", "Am Ende saß er in meiner Küche und aß mein Frühstück."]],
    "zh": [["我给你讲个故事。", "昨天邻居家的鹦鹉飞走了，整条街的人找了一下午。", "最后，它就在我家厨房里，吃我的早饭。"]],
}

# ---------------------------------------------------------------- singing
# Traditional tunes as (MIDI note or None, beats); lyrics are new (CC0), one syllable per note.
TUNES = {
    "twinkle": ((60, 1), (60, 1), (67, 1), (67, 1), (69, 1), (69, 1), (67, 2), (65, 1), (65, 1), (64, 1), (64, 1), (62, 1), (62, 1), (60, 2)),
    "frere_jacques": ((60, 1), (62, 1), (64, 1), (60, 1), (60, 1), (62, 1), (64, 1), (60, 1), (64, 1), (65, 1), (67, 2), (64, 1), (65, 1), (67, 2)),
    "ode_to_joy": ((64, 1), (64, 1), (65, 1), (67, 1), (67, 1), (65, 1), (64, 1), (62, 1), (60, 1), (60, 1), (62, 1), (64, 1), (64, 1.5), (62, 0.5), (62, 2)),
    "mary_lamb": ((64, 1), (62, 1), (60, 1), (62, 1), (64, 1), (64, 1), (64, 2), (62, 1), (62, 1), (62, 2), (64, 1), (67, 1), (67, 2)),
}
SONGS = {
    "en": [
        ("twinkle", "Shining softly, up so high, little lantern in the sky."),
        ("frere_jacques", "Are you ready? Are you ready? Time to go, time to go."),
        ("ode_to_joy", "Every morning, in the garden, birds are singing in the trees."),
        ("mary_lamb", "Walking to the river side, river side, river side."),
    ],
    "es": [("frere_jacques", "¿Ya estás listo? ¿Ya estás listo? Vamos ya, vamos ya."),
           ("twinkle", "Brilla, brilla, sol de mar, en el cielo al despertar.")],
    "de": [("frere_jacques", "Bist du fertig? Bist du fertig? Komm mit mir, komm mit mir."),
           ("ode_to_joy", "Jeden Morgen, in dem Garten, singen Vögel laut im Baum.")],
    "zh": [("frere_jacques", "准备好了，准备好了，我们走，我们走。"),
           ("twinkle", "小小月亮挂天上，照着回家小路。")],
    "ja": [("frere_jacques", "じゅんびはいい？じゅんびはいい？いこうよ、いこうよ。"),
           ("twinkle", "あおいそらに、しろいくもが、ながれる。")],
}
