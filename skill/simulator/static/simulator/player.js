// Speech as the page plays it: read aloud (or silently, in its time), pauses counted down.

import { $, note, state, t } from "./page.js";

const LONG_PAUSE = 2; // seconds: a pause this long shows the countdown

// -- speech: speaking, pauses and the countdown -----------------------------------------------

export const player = {
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

export function pickVoice() {
  if (!window.speechSynthesis) return null;
  const voices = speechSynthesis.getVoices();
  const lang = state.locale.toLowerCase();
  return voices.find((v) => v.lang.toLowerCase().replace("_", "-") === lang)
    || voices.find((v) => v.lang.toLowerCase().startsWith(lang.slice(0, 2)))
    || null;
}

// Stretches the page's estimate of each spoken part so the whole lasts ``seconds``.
export function silentScale(segments, seconds) {
  if (seconds === undefined) return 1;
  let spoken = 0;
  let pauses = 0;
  for (const seg of segments) {
    if (seg.pause) pauses += seg.pause;
    else spoken += estimateSeconds(seg.text) * (100 / (seg.rate || 100));
  }
  return spoken > 0 ? Math.max(0, seconds - pauses) / spoken : 1;
}

export function estimateSeconds(text) {
  const rate = state.model?.speechRate || { unit: "words", perSecond: 2.5 };
  const units = rate.unit === "words"
    ? (text.match(/[A-Za-z0-9]+/g) || []).length
    : (text.match(/[^\s\p{P}\p{S}]/gu) || []).length;
  return units / rate.perSecond;
}

export function showCountdown(left, total, kind = "pause") {
  $("countdown").hidden = false;
  $("countdown").dataset.kind = kind;
  $("countdown-label").textContent = t(kind);
  $("countdown-value").textContent = String(Math.ceil(left));
  $("countdown-bar").style.width = `${Math.min(100, (100 * (total - left)) / total)}%`;
}

export function hideCountdown() {
  $("countdown").hidden = true;
}

export function formatSeconds(seconds) {
  const value = Math.round(seconds * 10) / 10;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${t("seconds")}`;
}
