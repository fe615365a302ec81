// MedRemind service worker: shows push notifications (generic text unless the patient opted in
// to medicine names) and posts a pressed Taken / Snooze button back with its signed token.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = {};
  try { message = event.data ? event.data.json() : {}; } catch (e) { message = {}; }
  const actions = (message.actions || []).slice(0, 2);  // most platforms show two buttons
  event.waitUntil(
    self.registration.showNotification(message.title || "MedRemind", {
      body: message.body || "You have a reminder.",
      tag: message.tag || "medremind",
      icon: "/app/static/icon-192.png",
      renotify: true,
      requireInteraction: message.kind === "medication_reminder",
      actions: actions.map((a) => ({ action: a.action, title: a.title })),
      data: { tokens: Object.fromEntries(actions.map((a) => [a.action, a.token])) },
    }),
  );
});

async function answer(action, token) {
  const response = await fetch("/app/api/push/answer", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ data: action, token }),
  });
  return response.ok;
}

async function openApp() {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) {
    if (client.url.includes("/app/")) return client.focus();
  }
  return self.clients.openWindow("/app/");
}

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  notification.close();
  const token = event.action && notification.data && notification.data.tokens[event.action];
  event.waitUntil(
    token
      ? answer(event.action, token).then((ok) => (ok ? undefined : openApp()))
      : openApp(),
  );
});
