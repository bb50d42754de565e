/* Postino signup forms: the spam check that runs in the visitor's browser.
 *
 * Any <form data-postino-signup="CHALLENGE_URL"> (the hosted page, or the
 * snippet pasted into another site) fetches a challenge from Postino, finds
 * the number whose SHA-256 (with the challenge's salt) matches, and puts the
 * answer in the form's hidden "altcha" field. Nothing goes to a third party.
 * The work runs in small slices so the page stays responsive; a submit
 * before it is done waits for it, then goes ahead.
 */
(function () {
  "use strict";

  var SLICE = 2000;  // hashes per slice before yielding to the page

  /* SHA-256 of an ASCII string, as lowercase hex (FIPS 180-4). */
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ];
  var W = new Array(64);

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  function sha256hex(text) {
    var length = text.length;
    var blocks = ((length + 8) >> 6) + 1;
    var words = new Array(blocks * 16);
    for (var i = 0; i < words.length; i++) words[i] = 0;
    for (i = 0; i < length; i++) words[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - (i % 4) * 8);
    words[length >> 2] |= 0x80 << (24 - (length % 4) * 8);
    words[words.length - 1] = length * 8;
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    for (var block = 0; block < words.length; block += 16) {
      for (var t = 0; t < 64; t++) {
        if (t < 16) {
          W[t] = words[block + t];
        } else {
          var a = W[t - 15], b = W[t - 2];
          var s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
          var s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
          W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
        }
      }
      var A = h[0], B = h[1], C = h[2], D = h[3], E = h[4], F = h[5], G = h[6], H = h[7];
      for (t = 0; t < 64; t++) {
        var S1 = rotr(E, 6) ^ rotr(E, 11) ^ rotr(E, 25);
        var ch = (E & F) ^ (~E & G);
        var temp1 = (H + S1 + ch + K[t] + W[t]) | 0;
        var S0 = rotr(A, 2) ^ rotr(A, 13) ^ rotr(A, 22);
        var maj = (A & B) ^ (A & C) ^ (B & C);
        var temp2 = (S0 + maj) | 0;
        H = G; G = F; F = E; E = (D + temp1) | 0; D = C; C = B; B = A; A = (temp1 + temp2) | 0;
      }
      h[0] = (h[0] + A) | 0; h[1] = (h[1] + B) | 0; h[2] = (h[2] + C) | 0; h[3] = (h[3] + D) | 0;
      h[4] = (h[4] + E) | 0; h[5] = (h[5] + F) | 0; h[6] = (h[6] + G) | 0; h[7] = (h[7] + H) | 0;
    }
    var hex = "";
    for (i = 0; i < 8; i++) hex += ("00000000" + (h[i] >>> 0).toString(16)).slice(-8);
    return hex;
  }

  function solve(challenge, done) {
    var number = 0;
    function slice() {
      var end = Math.min(number + SLICE, challenge.maxnumber + 1);
      for (; number < end; number++) {
        if (sha256hex(challenge.salt + number) === challenge.challenge) {
          done(number);
          return;
        }
      }
      if (number > challenge.maxnumber) done(null);
      else window.setTimeout(slice, 0);
    }
    slice();
  }

  function protect(form) {
    var field = form.querySelector('input[name="altcha"]');
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "altcha";
      form.appendChild(field);
    }
    var status = form.querySelector('[data-role="pow-status"]');
    var button = form.querySelector('button[type="submit"], [data-role="submit"]');
    var ready = false;
    var waiting = false;

    function say(text) { if (status) status.textContent = text; }

    form.addEventListener("submit", function (event) {
      if (ready) return;
      event.preventDefault();
      waiting = true;
      if (button) button.disabled = true;
      say("Checking you are not a robot…");
    });

    window.fetch(form.getAttribute("data-postino-signup"), { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (challenge) {
        solve(challenge, function (number) {
          if (number === null) { say("The spam check failed; reload the page."); return; }
          var answer = {
            algorithm: challenge.algorithm, challenge: challenge.challenge,
            number: number, salt: challenge.salt, signature: challenge.signature,
          };
          field.value = window.btoa(JSON.stringify(answer));
          ready = true;
          form.setAttribute("data-pow", "ready");
          if (waiting) form.submit();
        });
      })
      .catch(function () { say("The spam check could not start; reload the page."); });
  }

  function start() {
    if (typeof window.fetch !== "function") return;
    document.querySelectorAll("form[data-postino-signup]").forEach(protect);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
