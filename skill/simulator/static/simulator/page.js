// What every part of the simulator page shares: its elements, its state, labels and the log.

import { LABELS } from "./labels.js";

export const $ = (id) => document.getElementById(id);
export const STORE = "kneeRoutine.simulator.";

export const state = {
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

export const t = (key, ...args) => {
  const labels = LABELS[state.locale.slice(0, 2)] || LABELS.en;
  const value = labels[key] ?? LABELS.en[key];
  return typeof value === "function" ? value(...args) : value;
};

// -- the log -----------------------------------------------------------------------------------

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function append(node) {
  $("log").append(node);
  node.scrollIntoView({ block: "end" });
  return node;
}

export function note(text, kind) {
  if (kind === "quiet-once") {
    if (state.notedOnce === text) return;
    state.notedOnce = text;
  }
  return append(el("li", `note ${kind === "error" ? "error" : ""}`.trim(), text));
}
