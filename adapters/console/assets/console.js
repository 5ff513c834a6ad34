// obliged console: the little the pages do in the browser. Plain ES2020, no dependencies, safe
// under the console's CSP (no eval, no inline handlers). Every page works without it; this only
// keeps countdowns fresh, adds keyboard shortcuts, guards against double submits, moves focus to
// a refusal and marks what a live update changed.
//
// Words never come from here: the countdown's patterns and units are read from <body data-*>,
// filled from the server's catalogs (countdown-future, countdown-past, countdown-now, unit-*).
(function () {
  "use strict";

  // ------------------------------------------------------------------ countdowns

  const MINUTE = 60;
  const REFRESH_MS = 30 * 1000;

  /** The words of the countdown, from <body data-*>; null when the page does not give them. */
  function countdownWords() {
    const data = document.body ? document.body.dataset : null;
    if (!data || !data.countdownFuture || !data.countdownPast) {
      return null;
    }
    if (!data.unitDay || !data.unitHour || !data.unitMinute) {
      return null;
    }
    return {
      future: data.countdownFuture,
      past: data.countdownPast,
      now: data.countdownNow || null,
      day: data.unitDay,
      hour: data.unitHour,
      minute: data.unitMinute,
    };
  }

  /**
   * The same text as the server's Tr::countdown: the two most significant units, "now" within a
   * minute. `seconds` is due minus now.
   */
  function formatCountdown(seconds, words) {
    if (Math.abs(seconds) < MINUTE) {
      return words.now !== null ? words.now : words.future.replace("{}", "0 " + words.minute);
    }
    const total = Math.floor(Math.abs(seconds) / MINUTE);
    const days = Math.floor(total / 1440);
    const hours = Math.floor((total % 1440) / 60);
    const minutes = total % 60;
    const parts = [];
    if (days > 0) {
      parts.push(days + " " + words.day);
      if (hours > 0) parts.push(hours + " " + words.hour);
    } else if (hours > 0) {
      parts.push(hours + " " + words.hour);
      if (minutes > 0) parts.push(minutes + " " + words.minute);
    } else {
      parts.push(minutes + " " + words.minute);
    }
    const pattern = seconds > 0 ? words.future : words.past;
    return pattern.replace("{}", parts.join(" "));
  }

  function updateCountdowns() {
    const words = countdownWords();
    if (words === null) return;
    const now = Date.now();
    document.querySelectorAll("time.countdown[datetime]").forEach(function (element) {
      // The auditor's view shows a past moment: its countdowns stay as of that moment.
      if (element.closest("[data-as-of]") !== null) return;
      const due = Date.parse(element.getAttribute("datetime"));
      if (Number.isNaN(due)) return;
      const seconds = Math.trunc(due / 1000) - Math.trunc(now / 1000);
      const text = formatCountdown(seconds, words);
      if (element.textContent !== text) {
        element.textContent = text;
      }
      if (seconds <= 0) {
        const item = element.closest(".work-item");
        if (item !== null && !item.classList.contains("overdue")) {
          item.classList.add("overdue");
        }
      }
    });
  }

  // ------------------------------------------------------------------ keyboard shortcuts

  function isTyping(target) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    return target.closest("input, textarea, select") !== null;
  }

  function shortcutsDialog() {
    const dialog = document.getElementById("shortcuts");
    return dialog instanceof HTMLDialogElement ? dialog : null;
  }

  function openShortcuts() {
    const dialog = shortcutsDialog();
    if (dialog === null || dialog.open) return false;
    dialog.showModal();
    return true;
  }

  function closeShortcuts() {
    const dialog = shortcutsDialog();
    if (dialog !== null && dialog.open) dialog.close();
  }

  function go(path) {
    window.location.assign(path);
  }

  /** Opens the <details> around a command form and focuses its first field. */
  function openCommand(id) {
    const form = document.getElementById(id);
    if (form === null) return false;
    for (let details = form.closest("details"); details !== null; ) {
      details.open = true;
      details = details.parentElement ? details.parentElement.closest("details") : null;
    }
    const field = form.querySelector(
      "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
    );
    const target = field || form.querySelector("button, [tabindex]");
    if (target !== null) {
      target.focus();
      target.scrollIntoView({ block: "center", behavior: "auto" });
    }
    return true;
  }

  let awaitingSecondKey = false;
  let secondKeyTimer = 0;

  function onKeydown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.isComposing || isTyping(event.target)) return;
    const dialog = shortcutsDialog();
    if (dialog !== null && dialog.open) return; // Escape closes it natively.

    const key = event.key;
    if (awaitingSecondKey) {
      awaitingSecondKey = false;
      window.clearTimeout(secondKeyTimer);
      if (key === "w") {
        event.preventDefault();
        go("/my-work");
      }
      return;
    }
    let handled = true;
    switch (key) {
      case "?":
        handled = openShortcuts();
        break;
      case "g":
        awaitingSecondKey = true;
        secondKeyTimer = window.setTimeout(function () {
          awaitingSecondKey = false;
        }, 1500);
        break;
      case "/": {
        const search = document.getElementById("search");
        if (search !== null) {
          search.focus();
          if (typeof search.select === "function") search.select();
        } else {
          go("/complaints");
        }
        break;
      }
      case "n":
        go("/complaints/new");
        break;
      case "c":
        handled = openCommand("cmd-log-contact");
        break;
      case "p":
        handled = openCommand("cmd-make-promise");
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  }

  function onClick(event) {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest("#shortcuts-open") !== null) {
      event.preventDefault();
      openShortcuts();
    } else if (event.target.closest("#shortcuts-close") !== null) {
      event.preventDefault();
      closeShortcuts();
    }
  }

  // ------------------------------------------------------------------ double-submit guard

  const GUARD_MS = 15 * 1000;

  function submitButtons(form) {
    return Array.from(form.elements).filter(function (element) {
      return element.type === "submit";
    });
  }

  function release(form) {
    if (!(form instanceof HTMLFormElement) || form.dataset.submitting !== "1") return;
    delete form.dataset.submitting;
    window.clearTimeout(Number(form.dataset.guardTimer || 0));
    delete form.dataset.guardTimer;
    submitButtons(form).forEach(function (button) {
      if (button.dataset.guarded === "1") {
        button.disabled = false;
        delete button.dataset.guarded;
      }
    });
  }

  // Capture phase: runs before htmx's own listener on the form, so a second submit of a form
  // whose first is still on its way never reaches it.
  function onSubmit(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if ((form.getAttribute("method") || "").toLowerCase() !== "post") return;
    if (form.dataset.submitting === "1") {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    form.dataset.submitting = "1";
    // Disabled after this turn: the browser (or htmx) has read the form, including the value of
    // the button that was pressed, by then.
    window.setTimeout(function () {
      if (form.dataset.submitting !== "1") return;
      submitButtons(form).forEach(function (button) {
        if (!button.disabled) {
          button.disabled = true;
          button.dataset.guarded = "1";
        }
      });
    }, 0);
    // Should nothing answer (a cancelled submit, a lost connection), the form comes back.
    form.dataset.guardTimer = String(
      window.setTimeout(function () {
        release(form);
      }, GUARD_MS)
    );
  }

  function onAfterRequest(event) {
    const element = event.detail && event.detail.elt;
    if (!(element instanceof Element)) return;
    release(element instanceof HTMLFormElement ? element : element.closest("form"));
  }

  // ------------------------------------------------------------------ refusals and live changes

  /** Moves focus to a refusal inside a form in `root` (opening its <details>), if there is one. */
  function focusRefusal(root) {
    if (!root || typeof root.querySelector !== "function") return;
    let refusal = null;
    if (root instanceof Element && root.matches("form .refusal")) {
      refusal = root;
    } else {
      refusal = root.querySelector("form .refusal, .refusal");
    }
    if (refusal === null) return;
    for (let details = refusal.closest("details"); details !== null; ) {
      details.open = true;
      details = details.parentElement ? details.parentElement.closest("details") : null;
    }
    if (!refusal.hasAttribute("tabindex")) refusal.setAttribute("tabindex", "-1");
    window.requestAnimationFrame(function () {
      refusal.focus({ preventScroll: true });
      refusal.scrollIntoView({ block: "center", behavior: "auto" });
    });
  }

  const CHANGED_MS = 2600;

  function markChanged(element) {
    if (!(element instanceof Element)) return;
    element.classList.remove("just-changed");
    void element.offsetWidth; // restart the animation
    element.classList.add("just-changed");
    window.clearTimeout(Number(element.dataset.changedTimer || 0));
    element.dataset.changedTimer = String(
      window.setTimeout(function () {
        element.classList.remove("just-changed");
        delete element.dataset.changedTimer;
      }, CHANGED_MS)
    );
  }

  function onAfterSwap(event) {
    updateCountdowns();
    let target = (event.detail && event.detail.target) || event.target;
    // An outerHTML swap leaves the old element detached: look at its replacement.
    if (target instanceof Element && !target.isConnected && target.id) {
      target = document.getElementById(target.id);
    }
    if (target instanceof Element && target.closest("[sse-swap], [data-sse-swap]") === null) {
      focusRefusal(target);
    }
  }

  let leaving = false;

  function onSseMessage(event) {
    const element = event.target;
    // The server ends a live page's stream when its session ends (signed out elsewhere, the
    // account disabled): go to the sign-in page instead of showing stale data.
    // A page already leaving (the sign-out form itself ended the session) lets its own
    // navigation finish: a second one would abort it.
    if (element instanceof Element && element.id === "session-ended") {
      if (!leaving) window.location.assign("/sign-in");
      return;
    }
    updateCountdowns();
    if (element instanceof Element && element.matches("[sse-swap], [data-sse-swap]")) {
      markChanged(element);
    }
  }

  // ------------------------------------------------------------------ start

  function start() {
    updateCountdowns();
    window.setInterval(updateCountdowns, REFRESH_MS);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") updateCountdowns();
    });
    document.addEventListener("keydown", onKeydown);
    document.addEventListener("click", onClick);
    document.addEventListener("submit", onSubmit, true);
    // A page restored from the back/forward cache comes back with its buttons usable.
    window.addEventListener("pageshow", function (event) {
      leaving = false;
      if (event.persisted) document.querySelectorAll("form").forEach(release);
    });
    window.addEventListener("beforeunload", function () {
      leaving = true;
    });
    document.body.addEventListener("htmx:afterRequest", onAfterRequest);
    document.body.addEventListener("htmx:afterSwap", onAfterSwap);
    document.body.addEventListener("htmx:sseMessage", onSseMessage);
    // A refused command re-rendered as a whole page (no htmx): focus its refusal too.
    focusRefusal(document.getElementById("main") || document.body);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
