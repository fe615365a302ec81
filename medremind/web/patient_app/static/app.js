// MedRemind patient app: sign-in by one-time link, today's doses and appointments, answers,
// push notifications (service worker) and live reminders over a WebSocket.
"use strict";

const $ = (id) => document.getElementById(id);
const LABELS = {
  taken: "Taken", snoozed: "Snoozed", skipped: "Skipped", due: "Due", missed: "Missed",
  scheduled: "Scheduled", confirmed: "Confirmed", reschedule_requested: "Reschedule asked",
};
let socket = null;
let socketRetry = 1000;

function say(text, error = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", error);
}

async function api(path, body) {
  const options = { credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.method = "POST";
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("/app/api/" + path, options);
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  if (!response.ok) {
    const error = new Error((data.error && data.error.reason) || response.statusText);
    error.status = response.status;
    error.code = data.error && data.error.code;
    throw error;
  }
  return data;
}

function show(signedIn) {
  $("sign-in").hidden = signedIn;
  for (const id of ["today", "visits", "preferences", "settings"]) $(id).hidden = !signedIn;
}

function button(label, handler, primary = false) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (primary) b.className = "primary";
  b.addEventListener("click", async () => {
    b.disabled = true;
    try { await handler(); } catch (e) { say(e.message, true); } finally { b.disabled = false; }
  });
  return b;
}

function badge(status) {
  const span = document.createElement("span");
  span.className = "badge " + status;
  span.textContent = LABELS[status] || status;
  return span;
}

async function answerDose(id, answer) {
  const result = await api(`doses/${id}/answer`, { answer, minutes: 15 });
  say(result.already_answered ? "Already recorded." : `Recorded: ${LABELS[result.status] || result.status}.`);
  hideReminder(id);
  await load();
}

async function answerVisit(id, action) {
  const result = await api(`appointments/${id}/answer`, { action });
  say(`Appointment: ${LABELS[result.status] || result.status}.`);
  await load();
}

function renderDoses(doses) {
  const list = $("doses");
  list.replaceChildren();
  $("no-doses").hidden = doses.length > 0;
  for (const dose of doses) {
    const li = document.createElement("li");
    li.className = "card";
    li.dataset.dose = dose.id;
    const title = document.createElement("div");
    title.className = "title";
    title.textContent = `${dose.time} · ${dose.medicine}${dose.dose ? ", " + dose.dose : ""} `;
    title.append(badge(dose.status));
    li.append(title);
    if (dose.snoozed_until && dose.status === "snoozed") {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = `Snoozed until ${dose.snoozed_until}`;
      li.append(p);
    }
    if (dose.open) {
      const actions = document.createElement("div");
      actions.className = "actions";
      // A dose not due yet has no Snooze: it would bring the reminder forward.
      actions.append(
        button("Taken", () => answerDose(dose.id, "taken"), true),
        ...(dose.snoozable ? [button("Snooze 15 min", () => answerDose(dose.id, "snoozed"))] : []),
        button("Skip", () => answerDose(dose.id, "skipped")),
      );
      li.append(actions);
    }
    list.append(li);
  }
}

function renderVisits(visits) {
  const list = $("appointments");
  list.replaceChildren();
  $("no-appointments").hidden = visits.length > 0;
  for (const visit of visits) {
    const li = document.createElement("li");
    li.className = "card";
    const title = document.createElement("div");
    title.className = "title";
    // The clinic's time first where its zone differs: the visit happens there, at its hours.
    const clinic = visit.clinic;
    title.textContent = clinic
      ? `${clinic.date} ${clinic.time} ${clinic.zone} time (${clinic.date === visit.date ? "" : `${visit.date} `}${visit.time} your time) `
      : `${visit.date} ${visit.time} `;
    title.append(badge(visit.status));
    li.append(title);
    const where = [visit.clinician, visit.location].filter(Boolean).join(", ");
    if (where) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = where;
      li.append(p);
    }
    const actions = document.createElement("div");
    actions.className = "actions";
    if (visit.status !== "confirmed") actions.append(button("Confirm", () => answerVisit(visit.id, "confirm"), true));
    if (visit.status !== "reschedule_requested") actions.append(button("Reschedule", () => answerVisit(visit.id, "reschedule")));
    actions.append(button("Cancel", () => answerVisit(visit.id, "cancel")));
    li.append(actions);
    list.append(li);
  }
}

let pushKey = null;

async function load() {
  let data;
  try {
    data = await api("today");
  } catch (e) {
    if (e.status === 401) { show(false); closeSocket(); return; }
    throw e;
  }
  show(true);
  $("greeting").textContent = (data.patient.name ? `Hello ${data.patient.name}. ` : "") + `Your doses for ${data.date}.`;
  renderDoses(data.doses);
  renderVisits(data.appointments);
  pushKey = data.push_key;
  await refreshPushButtons();
  showPreferences(await api("settings"));
  openSocket();
}

// Live reminders: the web process pushes each reminder sent to the websocket channel.
function openSocket() {
  if (socket && socket.readyState <= 1) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/app/ws`);
  socket.addEventListener("open", () => { $("live-state").hidden = false; socketRetry = 1000; });
  socket.addEventListener("message", (event) => {
    let message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.type === "reminder") {
      socket.send(JSON.stringify({ type: "ack", id: message.id }));
      showReminder(message);
      load().catch(() => {});
    }
  });
  socket.addEventListener("close", (event) => {
    $("live-state").hidden = true;
    if (event.code === 4401) return;  // signed out or session ended
    setTimeout(openSocket, socketRetry);
    socketRetry = Math.min(socketRetry * 2, 30000);
  });
}

function closeSocket() {
  if (socket) { socket.close(1000); socket = null; }
}

// Button data names the row as 32 hex digits ("d:<hex>:t"); the API takes it as a UUID.
function uuidOf(hex) {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function showReminder(message) {
  const panel = $("reminder");
  panel.hidden = false;
  panel.dataset.dose = "";
  $("reminder-text").textContent = message.text;
  const actions = $("reminder-actions");
  actions.replaceChildren();
  for (const option of message.options || []) {
    const [kind, hex, code] = option.data.split(":");
    if (!/^[0-9a-f]{32}$/.test(hex || "")) continue;
    const id = uuidOf(hex);
    if (kind === "d") {
      panel.dataset.dose = id;
      const answer = { t: "taken", k: "skipped" }[code] || "snoozed";
      actions.append(button(option.label, () => answerDose(id, answer), answer === "taken"));
    } else if (kind === "a") {
      const action = { c: "confirm", r: "reschedule", x: "cancel" }[code];
      actions.append(button(option.label, async () => { await answerVisit(id, action); panel.hidden = true; }));
    }
  }
}

function hideReminder(doseId) {
  if ($("reminder").dataset.dose === doseId) $("reminder").hidden = true;
}

// Push notifications.
function keyBytes(base64url) {
  const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function registration() {
  if (!("serviceWorker" in navigator)) return null;
  return navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
}

async function refreshPushButtons() {
  const supported = pushKey && "PushManager" in window && "serviceWorker" in navigator;
  let subscribed = false;
  if (supported) {
    const reg = await navigator.serviceWorker.getRegistration("/app/");
    subscribed = Boolean(reg && (await reg.pushManager.getSubscription()));
  }
  $("push-on").hidden = !supported || subscribed;
  $("push-off").hidden = !supported || !subscribed;
}

async function pushOn() {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") { say("Notifications are blocked in this browser's settings.", true); return; }
  const reg = await registration();
  const subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(pushKey) });
  await api("push/subscribe", { ...subscription.toJSON(), device: navigator.userAgentData?.platform || "" });
  say("Notifications are on for this device.");
  await refreshPushButtons();
}

async function pushOff() {
  const reg = await navigator.serviceWorker.getRegistration("/app/");
  const subscription = reg && (await reg.pushManager.getSubscription());
  if (subscription) {
    await api("push/unsubscribe", { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
  }
  say("Notifications are off for this device.");
  await refreshPushButtons();
}

// An instant as the patient's own clock reads it (their zone, not the device's: a patient
// travelling, or a carer's phone, would read another time), with the zone named.
function inPatientZone(iso, zone) {
  const options = { dateStyle: "full", timeStyle: "short", timeZone: zone };
  let text;
  try { text = new Date(iso).toLocaleString(undefined, options); }
  catch (e) { zone = "UTC"; text = new Date(iso).toLocaleString(undefined, { ...options, timeZone: zone }); }
  return `${text} (${zone})`;
}

function dayAfter(isoDate) {
  const day = new Date(isoDate + "T00:00:00Z");
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

// How long a pause lasts, as the bot's "/pause 3 days" or "/pause until 3/15": shown while the
// box is ticked; "Keep the pause as it is" only for a pause already on (saving keeps its end).
function showPauseEnd() {
  const paused = $("paused").checked;
  $("pause-end").hidden = !paused;
  $("pause-day").hidden = !paused || $("pause-length").value !== "date";
}

function showPreferences(prefs) {
  $("paused").checked = prefs.paused;
  $("pause-keep").hidden = $("pause-keep").disabled = !prefs.paused;
  $("pause-length").value = prefs.paused ? "keep" : "open";
  $("pause-date").min = dayAfter(prefs.today);
  $("pause-date").value = "";
  showPauseEnd();
  // A pause with a length or a date ends by itself: say when, on the patient's clock.
  $("paused-until").textContent = !prefs.paused
    ? ""
    : prefs.paused_until
      ? `Your reminders come back by themselves on ${inPatientZone(prefs.paused_until, prefs.timezone)}.`
      : "Your reminders stay off until you turn them back on.";
  $("name-medicine").checked = prefs.name_medicine;
  $("quiet-start").value = prefs.quiet_start || "";
  $("quiet-end").value = prefs.quiet_end || "";
  // Empty fields are not "no quiet hours": say which apply until the patient sets their own.
  // Equal times are (only 00:00 to 00:00 is taken): say that nothing is held back.
  $("quiet-default").textContent = !prefs.quiet_start
    ? `Not set: ${prefs.quiet_default_start} to ${prefs.quiet_default_end} applies until you choose your own.`
    : prefs.quiet_start === prefs.quiet_end
      ? "No quiet hours: every message comes when it is due."
      : "";
}

async function savePreferences() {
  const start = $("quiet-start").value, end = $("quiet-end").value;
  const body = {
    paused: $("paused").checked,
    name_medicine: $("name-medicine").checked,
    quiet_start: start || null,
    quiet_end: end || null,
  };
  const length = $("pause-length").value;
  if (body.paused && length === "open") body.pause_until = null;
  else if (body.paused && length === "date") {
    if (!$("pause-date").value) throw new Error("Choose the day your reminders come back.");
    body.pause_until = $("pause-date").value;
  } else if (body.paused && length !== "keep") body.pause_days = Number(length);
  let prefs;
  try {
    prefs = await api("settings", body);
  } catch (e) {
    // More than 31 days ahead: the server names how long and until when, and the patient says
    // yes once (a date picked a year out by mistake paused every reminder with one tap).
    if (e.code !== "pause_long") throw e;
    if (!confirm(e.message)) {
      say("Nothing was changed.");
      return;
    }
    prefs = await api("settings", { ...body, pause_long: true });
  }
  showPreferences(prefs);
  say(prefs.paused ? "Saved. Your reminders are paused." : "Saved.");
}

async function deleteMe() {
  const typed = prompt("This deletes your medicines, reminders and history for good. Type DELETE to confirm.");
  if (typed === null) return;
  await api("delete-me", { confirm: typed.trim() });
  closeSocket();
  show(false);
  say("Your data was deleted.");
}

async function signOut(everywhere) {
  await api("sign-out", { everywhere });
  closeSocket();
  show(false);
  say(everywhere ? "Signed out on all devices." : "Signed out.");
}

async function start() {
  registration().catch(() => {});
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const result = await api("sign-in/request", { address: $("address").value });
      say(result.message);
    } catch (e) { say(e.message, true); }
  });
  $("paused").addEventListener("change", showPauseEnd);
  $("pause-length").addEventListener("change", showPauseEnd);
  $("preferences-form").addEventListener("submit", (event) => {
    event.preventDefault();
    savePreferences().catch((e) => say(e.message, true));
  });
  $("delete-me").addEventListener("click", () => deleteMe().catch((e) => say(e.message, true)));
  $("push-on").addEventListener("click", () => pushOn().catch((e) => say(e.message, true)));
  $("push-off").addEventListener("click", () => pushOff().catch((e) => say(e.message, true)));
  $("sign-out").addEventListener("click", () => signOut(false).catch((e) => say(e.message, true)));
  $("sign-out-all").addEventListener("click", () => signOut(true).catch((e) => say(e.message, true)));

  // A link opened in a tab that already shows the app changes only the fragment.
  window.addEventListener("hashchange", () => signInFromLink().then(load).catch((e) => say(e.message, true)));
  await signInFromLink();
  try { await load(); } catch (e) { say(e.message, true); }
}

async function signInFromLink() {
  const match = location.hash.match(/sign-in=([A-Za-z0-9_-]+)/);
  if (!match) return;
  // Take the secret out of the address bar and history before anything else.
  history.replaceState(null, "", location.pathname);
  try {
    await api("sign-in", { token: match[1] });
    say("You are signed in.");
  } catch (e) { say(e.message, true); }
}

document.addEventListener("DOMContentLoaded", start);
