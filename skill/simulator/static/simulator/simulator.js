// Knee Routine simulator: type or speak, see what Alexa heard, read and hear what it says.
// The session (id, attributes) lives here, as on an Echo; the server runs the NLU and the skill.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const LONG_PAUSE = 2; // seconds: a pause this long shows the countdown
  const STORE = "kneeRoutine.simulator.";

  // Labels of the page itself (what the skill says comes from the server).
  const LABELS = {
    en: {
      subtitle: "simulator", language: "Language", aloud: "Read aloud", pause: "Pause",
      seconds: "s", skip: "Skip pause", stop: "Stop", sayLabel: "What you say", send: "Say",
      silence: "Stay silent", end: "End session", newUser: "New user",
      placeholder: "Type what you would say to Alexa",
      noSession: (p) => `No session. Say “${p}” to begin.`,
      open: "Session open: Alexa is listening.", ended: "Session ended.",
      empty: (p) => `Try “${p}”, then “start”. Questions and “my knee hurts” work at any time.`,
      you: "You", alexa: "Alexa", reprompt: "Reprompt", heardAs: "heard as",
      launch: "LaunchRequest", oneShot: "one-shot", fallback: "no sample matched",
      sessionOpen: "Session stays open", sessionEnded: "Session ended",
      afterSilence: "After about 8 s of silence, Alexa says the reprompt:",
      silenceEnd: "Silence again: Alexa closes the session.",
      json: "Request and response JSON", noVoice: (l) => `No ${l} voice in this browser: reading silently.`,
      micError: "The microphone is not available here: type instead.",
      newUserDone: "You are a new user now: the skill has never met you.",
      error: "Error", mic: "Speak",
      device: "Like an Echo", listening: "Listening",
      speaking: (w) => `Alexa is speaking: only what begins with “${w.trim()}” is heard.`,
      listeningNow: "Alexa is listening.",
      notHeardSpeaking: (w) => `Not heard: Alexa was speaking. Begin with “${w}…” to interrupt.`,
      notHeardIdle: (w) => `Not heard: no session is open. Begin with “${w}…”.`,
      notHeardUnnamed: (w) => `Not for the skill: with no session open, Alexa answers this herself. Name the skill: “${w}open …”.`,
      noAnswer: "No answer: Alexa closes the session.",
      closest: "closest samples:",
    },
    ja: {
      subtitle: "シミュレーター", language: "言語", aloud: "読み上げ", pause: "ポーズ",
      seconds: "秒", skip: "ポーズを飛ばす", stop: "停止", sayLabel: "話す言葉", send: "話す",
      silence: "黙っている", end: "セッション終了", newUser: "新しいユーザー",
      placeholder: "アレクサに話す言葉を入力",
      noSession: (p) => `セッションはありません。「${p}」と言って始めます。`,
      open: "セッション継続中: アレクサが聞いています。", ended: "セッションは終了しました。",
      empty: (p) => `「${p}」、次に「始めて」と言ってみてください。質問や「膝が痛い」はいつでも使えます。`,
      you: "あなた", alexa: "アレクサ", reprompt: "再プロンプト", heardAs: "認識",
      launch: "LaunchRequest", oneShot: "ワンショット", fallback: "一致するサンプルなし",
      sessionOpen: "セッション継続", sessionEnded: "セッション終了",
      afterSilence: "8秒ほど黙っていると、アレクサは再プロンプトを言います:",
      silenceEnd: "もう一度黙っていたので、アレクサはセッションを閉じます。",
      json: "リクエストとレスポンスの JSON", noVoice: (l) => `このブラウザには ${l} の音声がありません。文字だけで進めます。`,
      micError: "ここではマイクが使えません。文字で入力してください。",
      newUserDone: "新しいユーザーになりました。スキルにとって初めての利用です。",
      error: "エラー", mic: "話す",
      device: "Echo と同じ聞き方", listening: "聞いています",
      speaking: (w) => `アレクサが話しています。「${w}…」で始まる言葉だけが届きます。`,
      listeningNow: "アレクサが聞いています。",
      notHeardSpeaking: (w) => `届きませんでした: アレクサが話していました。割り込むには「${w}…」と言います。`,
      notHeardIdle: (w) => `届きませんでした: セッションがありません。「${w}…」で始めます。`,
      notHeardUnnamed: (w) => `スキルには届きません: セッションがないとき、これはアレクサ自身が答えます。「${w}…を開いて」のようにスキル名を言います。`,
      noAnswer: "答えがないので、アレクサはセッションを閉じます。",
      closest: "近いサンプル:",
    },
  };

  const state = {
    locale: "ja-JP",
    model: null, // from /simulator/api/model
    session: null, // {id, attributes, new}
    lastReprompt: [],
    reprompted: false,
    busy: false,
    device: false, // keep time as an Echo: speaking, 8 s listening, reprompt, 8 s, the end
    mic: "idle", // device mode: idle | speaking | listening | reprompting | listening-again
    turn: 0, // bumped to cancel the listening timeline of an older reply
    skipListens: 0, // "Stay silent" in device mode: listening windows to cut short
  };

  const t = (key, ...args) => {
    const labels = LABELS[state.locale.slice(0, 2)] || LABELS.en;
    const value = labels[key] ?? LABELS.en[key];
    return typeof value === "function" ? value(...args) : value;
  };

  // -- the user, kept in this browser -----------------------------------------------------------

  function userId() {
    let id = localStorage.getItem(STORE + "user");
    if (!id) {
      const bytes = crypto.getRandomValues(new Uint8Array(8));
      id = "simulator-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(STORE + "user", id);
    }
    return id;
  }

  // -- talking to the server --------------------------------------------------------------------

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  async function loadModel() {
    const response = await fetch(`/simulator/api/model?locale=${encodeURIComponent(state.locale)}`);
    state.model = await response.json();
    renderChrome();
  }

  // -- speech: speaking, pauses and the countdown -----------------------------------------------

  const player = {
    run: 0, // bumped to cancel what is playing
    skip: null, // resolves the current pause early

    stop() {
      this.run += 1;
      if (this.skip) this.skip();
      if (window.speechSynthesis) speechSynthesis.cancel();
      hideCountdown();
      document.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
      document.body.dataset.playing = "false";
    },

    // ``seconds`` (device mode): how long Alexa takes to say it; read silently in that time
    // when reading aloud is off. Resolves true when it ran to the end, false when stopped.
    async play(segments, elements, seconds) {
      this.stop();
      const silent = !$("aloud").checked;
      if ((silent && seconds === undefined) || !segments.length) return true;
      const run = this.run;
      document.body.dataset.playing = "true";
      const voice = silent ? null : pickVoice();
      if (!voice && !silent) note(t("noVoice", state.locale), "quiet-once");
      this.scale = silentScale(segments, seconds);
      for (let i = 0; i < segments.length; i++) {
        if (run !== this.run) return;
        const seg = segments[i];
        const el = elements[i];
        if (el) {
          el.classList.add("active");
          el.scrollIntoView({ block: "nearest" });
        }
        if (seg.pause) await this.wait(seg.pause, run, el);
        else await this.say(seg, voice, run);
        if (el) el.classList.remove("active");
      }
      if (run !== this.run) return false;
      document.body.dataset.playing = "false";
      return true;
    },

    say(seg, voice, run) {
      const estimate = estimateSeconds(seg.text) * (100 / (seg.rate || 100)) * this.scale;
      if (!voice) return this.wait(estimate, run, null); // read along, silently
      return new Promise((resolve) => {
        const utterance = new SpeechSynthesisUtterance(seg.text);
        utterance.lang = state.locale;
        utterance.voice = voice;
        utterance.rate = (seg.rate || 100) / 100;
        const done = () => { clearTimeout(timer); resolve(); };
        const timer = setTimeout(done, (estimate * 2 + 3) * 1000); // never hang on a lost event
        utterance.onend = done;
        utterance.onerror = done;
        speechSynthesis.speak(utterance);
      });
    },

    wait(seconds, run, el) {
      return new Promise((resolve) => {
        const started = performance.now();
        const long = el && seconds >= LONG_PAUSE;
        let timer = null;
        const finish = () => {
          clearInterval(timer);
          this.skip = null;
          if (long) {
            hideCountdown();
            el.textContent = formatSeconds(seconds);
          }
          resolve();
        };
        this.skip = finish;
        const tick = () => {
          if (run !== this.run) return finish();
          const left = seconds - (performance.now() - started) / 1000;
          if (left <= 0) return finish();
          if (long) {
            const appearing = $("countdown").hidden;
            showCountdown(left, seconds);
            el.textContent = formatSeconds(Math.ceil(left));
            if (appearing) el.scrollIntoView({ block: "nearest" }); // the panel took some room
          }
        };
        tick();
        timer = setInterval(tick, 100);
      });
    },
  };

  function pickVoice() {
    if (!window.speechSynthesis) return null;
    const voices = speechSynthesis.getVoices();
    const lang = state.locale.toLowerCase();
    return voices.find((v) => v.lang.toLowerCase().replace("_", "-") === lang)
      || voices.find((v) => v.lang.toLowerCase().startsWith(lang.slice(0, 2)))
      || null;
  }

  // Stretches the page's estimate of each spoken part so the whole lasts ``seconds``.
  function silentScale(segments, seconds) {
    if (seconds === undefined) return 1;
    let spoken = 0;
    let pauses = 0;
    for (const seg of segments) {
      if (seg.pause) pauses += seg.pause;
      else spoken += estimateSeconds(seg.text) * (100 / (seg.rate || 100));
    }
    return spoken > 0 ? Math.max(0, seconds - pauses) / spoken : 1;
  }

  function estimateSeconds(text) {
    const rate = state.model?.speechRate || { unit: "words", perSecond: 2.5 };
    const units = rate.unit === "words"
      ? (text.match(/[A-Za-z0-9]+/g) || []).length
      : (text.match(/[^\s\p{P}\p{S}]/gu) || []).length;
    return units / rate.perSecond;
  }

  function showCountdown(left, total, kind = "pause") {
    $("countdown").hidden = false;
    $("countdown").dataset.kind = kind;
    $("countdown-label").textContent = t(kind);
    $("countdown-value").textContent = String(Math.ceil(left));
    $("countdown-bar").style.width = `${Math.min(100, (100 * (total - left)) / total)}%`;
  }

  function hideCountdown() {
    $("countdown").hidden = true;
  }

  function formatSeconds(seconds) {
    const value = Math.round(seconds * 10) / 10;
    return `${Number.isInteger(value) ? value : value.toFixed(1)} ${t("seconds")}`;
  }

  // -- the log -----------------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function append(node) {
    $("log").append(node);
    node.scrollIntoView({ block: "end" });
    return node;
  }

  function note(text, kind) {
    if (kind === "quiet-once") {
      if (state.notedOnce === text) return;
      state.notedOnce = text;
    }
    return append(el("li", `note ${kind === "error" ? "error" : ""}`.trim(), text));
  }

  function showUser(text, heard) {
    const item = el("li", "turn user");
    item.append(el("p", "said", text));
    if (heard) item.append(describeHeard(heard));
    return append(item);
  }

  function describeHeard(heard) {
    const line = el("p", "heard");
    line.append(`${t("heardAs")} `);
    const name = heard.intent || t("launch");
    line.append(el("span", "intent", name));
    if (heard.invocation === "one_shot") line.append(` · ${t("oneShot")}`);
    for (const slot of Object.values(heard.slots || {})) {
      if (slot.value === undefined) continue;
      const authority = slot.resolutions?.resolutionsPerAuthority?.[0];
      const ids = (authority?.values || []).map((v) => v.value.id).join(", ");
      const code = authority ? ` ${authority.status.code}${ids ? " → " + ids : ""}` : "";
      line.append(el("span", "slot", `${slot.name} = “${slot.value}”${code}`));
    }
    if (heard.intent === "AMAZON.FallbackIntent") line.append(el("span", "slot fallback", t("fallback")));
    if (heard.closest?.length) {
      const wrap = el("div", "closest");
      wrap.append(el("span", "label", t("closest")));
      const list = el("ul", "");
      for (const sample of heard.closest) list.append(el("li", "", sample));
      wrap.append(list);
      const holder = el("div", "");
      holder.append(line, wrap);
      return holder;
    }
    return line;
  }

  function speechNodes(segments) {
    const paragraph = el("p", "speech");
    const nodes = [];
    for (const seg of segments) {
      let node = null;
      if (seg.pause) {
        if (seg.pause >= 1) {
          node = el("span", "pause", formatSeconds(seg.pause));
          node.dataset.seconds = String(seg.pause);
          paragraph.append(" ", node, " ");
        }
      } else {
        node = el("span", "seg", seg.text);
        paragraph.append(node, " ");
      }
      nodes.push(node);
    }
    return { paragraph, nodes };
  }

  function showAlexa(reply, exchange) {
    const item = el("li", "turn alexa");
    item.append(el("p", "who", t("alexa")));
    const { paragraph, nodes } = speechNodes(reply.speech);
    item.append(paragraph);
    if (reply.reprompt.length) {
      const reprompt = el("p", "reprompt");
      reprompt.append(el("span", "label", t("reprompt")), reply.repromptText);
      item.append(reprompt);
    }
    if (reply.card) {
      const card = el("article", "card");
      card.append(el("h2", "", reply.card.title), el("p", "", reply.card.text));
      item.append(card);
    }
    item.append(el("p", `session-state ${reply.sessionOpen ? "open" : "ended"}`,
      reply.sessionOpen ? t("sessionOpen") : t("sessionEnded")));
    const details = el("details", "json");
    details.append(el("summary", "", t("json")),
      el("pre", "", JSON.stringify({ request: exchange.request, response: reply.envelope }, null, 2)));
    item.append(details);
    append(item);
    return nodes;
  }

  // -- turns -------------------------------------------------------------------------------------

  function adopt(data) {
    state.session = data.session;
    state.turn += 1; // whatever was playing or listening is over
    state.skipListens = 0;
    hideCountdown();
    let toPlay = null;
    for (const exchange of data.exchanges) {
      for (const text of exchange.notes || []) note(text);
      if (exchange.reply) {
        const nodes = showAlexa(exchange.reply, exchange);
        toPlay = { segments: exchange.reply.speech, nodes, reply: exchange.reply };
        state.lastReprompt = exchange.reply.reprompt;
      } else {
        note(`SessionEndedRequest (${exchange.request.request.reason})`);
      }
    }
    state.reprompted = false;
    if (!state.session) state.lastReprompt = [];
    setMic("idle");
    if (toPlay && state.device && toPlay.reply.sessionOpen) echoTimeline(toPlay);
    else if (toPlay) player.play(toPlay.segments, toPlay.nodes);
  }

  // -- device mode: how an Echo listens after a reply --------------------------------------------

  function setMic(mic) {
    state.mic = mic;
    document.body.dataset.mic = mic;
    renderStatus();
  }

  // Alexa speaks; the microphone is open 8 s; the reprompt; 8 s more; then the session ends.
  async function echoTimeline({ segments, nodes, reply }) {
    const turn = state.turn;
    const current = () => turn === state.turn;
    setMic("speaking");
    await player.play(segments, nodes, reply.speechSeconds);
    if (!current()) return;
    setMic("listening");
    await listen(turn);
    if (!current()) return;
    setMic("reprompting");
    note(t("afterSilence"));
    const repromptNodes = showReprompt(reply.reprompt);
    await player.play(reply.reprompt, repromptNodes, reply.repromptSeconds);
    if (!current()) return;
    setMic("listening-again");
    await listen(turn);
    if (!current()) return;
    note(t("noAnswer"));
    await endSession("EXCEEDED_MAX_REPROMPTS");
  }

  // The microphone's window, counted down on screen; resolves when it closes (or is cut short).
  function listen(turn) {
    const seconds = state.model?.listenSeconds || 8;
    return new Promise((resolve) => {
      const started = performance.now();
      const tick = () => {
        const left = seconds - (performance.now() - started) / 1000;
        if (turn !== state.turn || left <= 0 || state.skipListens > 0) {
          if (state.skipListens > 0 && turn === state.turn) state.skipListens -= 1;
          clearInterval(timer);
          if (turn === state.turn) hideCountdown();
          return resolve();
        }
        showCountdown(left, seconds, "listening");
      };
      const timer = setInterval(tick, 100);
      tick();
    });
  }

  function showReprompt(segments) {
    const item = el("li", "turn alexa");
    item.append(el("p", "who", `${t("alexa")} · ${t("reprompt")}`));
    const { paragraph, nodes } = speechNodes(segments);
    item.append(paragraph);
    append(item);
    return nodes;
  }

  function alexaSpeaking() {
    return state.mic === "speaking" || state.mic === "reprompting";
  }

  async function say(text) {
    text = text.trim();
    if (!text || state.busy) return;
    if (!state.device) player.stop(); // an Echo keeps talking unless it hears its wake word
    setBusy(true);
    try {
      const data = await post("/simulator/api/say", {
        locale: state.locale, text, session: state.session, user: userId(),
        device: state.device, speaking: state.device && alexaSpeaking(),
      });
      $("say").value = "";
      if (data.notHeard) {
        showUser(text, null).classList.add("not-heard");
        const wake = state.model?.wakePhrase || "Alexa, ";
        const why = { idle: "notHeardIdle", unnamed: "notHeardUnnamed" }[data.notHeard];
        note(t(why || "notHeardSpeaking", why === "unnamed" ? wake : wake.trim()));
        return;
      }
      if (data.wakeOnly) { // Alexa stops speaking and listens
        showUser(text, null);
        if (alexaSpeaking()) player.stop();
        return;
      }
      const last = data.exchanges[data.exchanges.length - 1];
      showUser(text, last.heard);
      adopt(data);
    } catch (error) {
      showUser(text, null);
      note(`${t("error")}: ${error.message}`, "error");
    } finally {
      setBusy(false);
      $("say").focus();
    }
  }

  async function endSession(reason) {
    if (!state.session || state.busy) return;
    state.turn += 1;
    player.stop();
    setBusy(true);
    try {
      adopt(await post("/simulator/api/end", {
        locale: state.locale, session: state.session, user: userId(), reason,
      }));
    } catch (error) {
      note(`${t("error")}: ${error.message}`, "error");
      state.session = null;
      renderStatus();
    } finally {
      setBusy(false);
    }
  }

  async function staySilent() {
    if (!state.session) return;
    if (state.device && state.mic !== "idle") { // skip ahead to the end of this window
      state.skipListens = 1;
      if (alexaSpeaking()) player.stop();
      return;
    }
    if (!state.reprompted && state.lastReprompt.length) {
      state.reprompted = true;
      note(t("afterSilence"));
      player.play(state.lastReprompt, showReprompt(state.lastReprompt));
      return;
    }
    note(t("silenceEnd"));
    await endSession("EXCEEDED_MAX_REPROMPTS");
  }

  function setBusy(busy) {
    state.busy = busy;
    $("send").disabled = busy;
  }

  // -- chrome ------------------------------------------------------------------------------------

  function renderStatus() {
    const open = Boolean(state.session);
    document.body.dataset.session = open ? "open" : "none";
    const wake = state.device ? state.model?.wakePhrase || "" : "";
    const phrase = wake + (state.model?.launchPhrase || "");
    let status = open ? t("open") : t("noSession", phrase);
    if (open && state.device && alexaSpeaking()) status = t("speaking", wake);
    else if (open && state.device && state.mic.startsWith("listening")) status = t("listeningNow");
    $("status").textContent = status;
    $("silence").disabled = !open;
    $("end").disabled = !open;
  }

  function renderChrome() {
    document.documentElement.lang = state.locale.slice(0, 2);
    document.querySelectorAll("[data-i18n]").forEach((node) => {
      node.textContent = t(node.dataset.i18n);
    });
    $("say").placeholder = t("placeholder");
    $("mic").setAttribute("aria-label", t("mic"));
    const phrase = state.model?.launchPhrase || "";
    $("empty").textContent = t("empty", phrase);
    const chips = $("suggestions");
    chips.replaceChildren();
    const suggestions = [...(state.model?.suggestions || [])];
    if (state.device && suggestions.length) suggestions[0] = state.model.wakePhrase + suggestions[0];
    for (const text of suggestions) {
      const chip = el("button", "chip", text);
      chip.type = "button";
      chip.addEventListener("click", () => say(text));
      chips.append(chip);
    }
    renderStatus();
  }

  async function switchLocale(locale) {
    if (state.session) await endSession("USER_INITIATED");
    state.locale = locale;
    localStorage.setItem(STORE + "locale", locale);
    await loadModel();
  }

  // -- the microphone (Web Speech API, where the browser has it) -------------------------------

  function setUpMicrophone() {
    const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
    if (!Recognition) return;
    const mic = $("mic");
    mic.hidden = false;
    let listening = null;
    mic.addEventListener("click", () => {
      if (listening) return listening.stop();
      player.stop();
      const recognition = new Recognition();
      recognition.lang = state.locale;
      recognition.interimResults = false;
      recognition.maxAlternatives = 1;
      recognition.onresult = (event) => {
        const text = event.results[0][0].transcript;
        $("say").value = text;
        say(text);
      };
      recognition.onerror = (event) => {
        if (event.error !== "no-speech" && event.error !== "aborted") note(t("micError"), "error");
      };
      recognition.onend = () => { listening = null; mic.classList.remove("listening"); };
      listening = recognition;
      mic.classList.add("listening");
      try { recognition.start(); } catch { recognition.onend(); note(t("micError"), "error"); }
    });
  }

  // -- start -------------------------------------------------------------------------------------

  function start() {
    const asked = new URLSearchParams(location.search).get("locale");
    const saved = localStorage.getItem(STORE + "locale");
    const locale = [asked, saved].find((l) => l === "ja-JP" || l === "en-US") || "ja-JP";
    state.locale = locale;
    $("locale").value = locale;
    const aloud = localStorage.getItem(STORE + "aloud");
    if (aloud !== null) $("aloud").checked = aloud === "true";
    const device = new URLSearchParams(location.search).get("device")
      ?? localStorage.getItem(STORE + "device");
    state.device = device === "1" || device === "true";
    $("device").checked = state.device;
    document.body.dataset.device = String(state.device);

    $("say-form").addEventListener("submit", (event) => {
      event.preventDefault();
      say($("say").value);
    });
    $("locale").addEventListener("change", (event) => switchLocale(event.target.value));
    $("aloud").addEventListener("change", (event) => {
      localStorage.setItem(STORE + "aloud", String(event.target.checked));
      if (!event.target.checked) player.stop();
    });
    $("device").addEventListener("change", (event) => {
      state.device = event.target.checked;
      localStorage.setItem(STORE + "device", String(state.device));
      document.body.dataset.device = String(state.device);
      state.turn += 1; // a reply's timeline, if any, stops here
      player.stop();
      setMic("idle");
      renderChrome();
    });
    $("silence").addEventListener("click", staySilent);
    $("end").addEventListener("click", () => endSession("USER_INITIATED"));
    $("new-user").addEventListener("click", async () => {
      await endSession("USER_INITIATED");
      localStorage.removeItem(STORE + "user");
      userId();
      note(t("newUserDone"));
    });
    $("skip-pause").addEventListener("click", () => player.skip && player.skip());
    $("stop-playing").addEventListener("click", () => player.stop()); // device mode: it listens
    if (window.speechSynthesis) speechSynthesis.getVoices(); // starts loading the voices
    setUpMicrophone();
    renderChrome();
    loadModel().catch((error) => note(`${t("error")}: ${error.message}`, "error"));
    $("say").focus();
  }

  start();
})();
