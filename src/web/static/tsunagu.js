// Small enhancements for tsunagu's pages; every page works without them.
(function () {
  'use strict';

  // Characters left while writing a post.
  document.querySelectorAll('textarea[maxlength][data-counter]').forEach(function (area) {
    var out = document.getElementById(area.getAttribute('data-counter'));
    if (!out) return;
    var max = parseInt(area.getAttribute('maxlength'), 10);
    var template = out.getAttribute('data-template');
    var update = function () {
      out.textContent = template.replace('{n}', String(max - area.value.length));
    };
    area.addEventListener('input', update);
    update();
    out.hidden = false;
  });

  // New posts on a timeline: look again every minute and whenever the page
  // comes back into view, and offer to show them (never moving what is read).
  var feed = document.querySelector('[data-live]');
  var banner = document.getElementById('new-posts');
  if (!feed || !banner) return;
  var keys = function (doc) {
    return Array.prototype.map.call(doc.querySelectorAll('article.post[data-key]'), function (a) {
      return a.getAttribute('data-key');
    });
  };
  var seen = {};
  keys(document).forEach(function (k) { seen[k] = true; });
  var busy = false;
  var check = function () {
    if (document.hidden || busy) return;
    busy = true;
    fetch(location.pathname, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : ''; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = keys(doc).filter(function (k) { return !seen[k]; }).length;
        if (fresh > 0) {
          banner.querySelector('span').textContent =
            banner.getAttribute('data-template').replace('{n}', String(fresh));
          banner.hidden = false;
        }
      })
      .catch(function () {})
      .then(function () { busy = false; });
  };
  setInterval(check, 60000);
  document.addEventListener('visibilitychange', check);
  window.addEventListener('focus', check);
})();
