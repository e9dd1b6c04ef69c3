// The entity's network with cytoscape.js (vendored). The table of linked records below the
// graph lists the same links, for keyboard and screen-reader users.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("network");
    if (!box || typeof window.cytoscape !== "function") return;
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (elements) {
        var cy = window.cytoscape({
          container: box,
          elements: elements,
          wheelSensitivity: 0.3,
          maxZoom: 2.5,
          minZoom: 0.2,
          style: [
            { selector: "node", style: {
              "label": "data(label)", "font-size": 10, "text-wrap": "wrap", "text-max-width": 120,
              "text-valign": "bottom", "text-margin-y": 4, "color": "#1b1b1b",
              "background-color": "#005ea2", "width": 22, "height": 22 } },
            { selector: "node[?center]", style: {
              "background-color": "#b50909", "width": 32, "height": 32, "font-weight": "bold" } },
            { selector: "node[schema = 'Sanction'], node[schema = 'Sanción']", style: {
              "shape": "diamond", "background-color": "#c05600" } },
            { selector: "node[?designated]", style: {
              "shape": "diamond", "background-color": "#c05600", "width": 30, "height": 30 } },
            { selector: "edge", style: {
              "label": "data(label)", "font-size": 8, "color": "#565c65", "width": 1.5,
              "line-color": "#71767a", "target-arrow-color": "#71767a",
              "target-arrow-shape": "triangle", "curve-style": "bezier",
              "text-rotation": "autorotate", "text-background-color": "#fafafa",
              "text-background-opacity": 1 } }
          ],
          layout: { name: elements.nodes.length > 2 ? "cose" : "grid", animate: false,
                    padding: 30, nodeRepulsion: 8000 }
        });
        if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
        cy.on("tap", "node", function (event) {
          var url = event.target.data("url");
          if (url && !event.target.data("center")) window.location.assign(url);
        });
        box.setAttribute("data-ready", String(elements.nodes.length));
        window.binationalGraph = cy;
      })
      .catch(function () {
        var p = document.createElement("p");
        p.className = "alert alert-error";
        p.textContent = box.getAttribute("data-error");
        box.replaceWith(p);
      });
  });
})();
