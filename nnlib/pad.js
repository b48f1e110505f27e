// nnlib's drawing canvas (nnlib.widgets.DrawingCanvas), an anywidget module: draw with a mouse, a pen or a
// finger (pointer events); each finished stroke goes to Python as a list of [x, y] points in canvas pixels
// (the `strokes` trait), where nnlib.drawing renders and preprocesses it. Python sets `strokes` too (the pad's
// clear button, a drawing of its own): the canvas redraws from them.
function render({ model, el }) {
  const size = model.get("size");
  const root = document.createElement("div");
  root.className = "nnlib-pad";
  root.style.cssText = "display:inline-flex;flex-direction:column;gap:4px;align-items:flex-start";
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "nnlib-pad-canvas";
  canvas.setAttribute("aria-label", "drawing canvas: draw a digit");
  // touch-action none: a finger draws instead of scrolling the page
  canvas.style.cssText = `width:${size}px;height:${size}px;border:2px solid #888;border-radius:4px;` +
    "background:#fff;touch-action:none;cursor:crosshair;user-select:none";
  root.append(canvas);
  el.appendChild(root);
  const ctx = canvas.getContext("2d");

  function line(points) {
    ctx.beginPath();
    ctx.moveTo(points[0][0], points[0][1]);
    if (points.length === 1) ctx.lineTo(points[0][0] + 0.01, points[0][1]);   // a dot
    for (const [x, y] of points.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  }
  function redraw() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = model.get("line_width");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const s of model.get("strokes")) if (s.length) line(s);
  }
  redraw();

  let current = null;
  function at(e) {   // the pointer in canvas pixels, whatever size the page shows the canvas at
    const r = canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) * size) / r.width, y = ((e.clientY - r.top) * size) / r.height;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }
  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== undefined && e.button > 0) return;   // the main button, a pen or a finger only
    e.preventDefault();
    canvas.dataset.pointer = e.pointerType || "";   // mouse, pen or touch (read by tests/test_browser.py)
    try {
      canvas.setPointerCapture(e.pointerId);   // the stroke goes on when the pointer leaves the canvas
    } catch (err) {}                           // (an old browser, or a pointer it does not know)
    current = [at(e)];
    line(current);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!current) return;
    e.preventDefault();
    const p = at(e), q = current[current.length - 1];
    if (Math.abs(p[0] - q[0]) + Math.abs(p[1] - q[1]) < 1) return;
    current.push(p);
    line([q, p]);
  });
  function finish(e) {
    if (!current) return;
    const stroke = current;
    current = null;
    model.set("strokes", [...model.get("strokes"), stroke]);
    model.save_changes();
  }
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("lostpointercapture", finish);
  model.on("change:strokes", redraw);
  model.on("change:line_width", redraw);
  // tells Python the canvas is on the page (it then hides its "if no canvas appears" note)
  model.set("rendered", true);
  model.save_changes();
  return () => {
    model.off("change:strokes", redraw);
    model.off("change:line_width", redraw);
  };
}

export default { render };
