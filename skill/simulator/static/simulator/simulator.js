// Knee Routine simulator: type or speak, see what Alexa heard, read and hear what it says.
// The session (id, attributes) lives here, as on an Echo; the server runs the NLU and the skill.

import { $, STORE, el, note, state, t } from "./page.js";
import { hideCountdown, player, showCountdown } from "./player.js";
import { showAlexa, showReprompt, showUser } from "./log.js";

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
