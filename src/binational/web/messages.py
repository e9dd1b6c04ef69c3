"""The message catalogue: every user-facing string of the web application, in both languages.

``tests/test_web.py`` checks that both dictionaries have the same keys and placeholders, and
that every key the templates and the code use is here.
"""

from __future__ import annotations

# Keys built from a vocabulary value in templates (``t("role." ~ role)``) are listed in
# ``DYNAMIC`` so the catalogue test can check them too.
DYNAMIC = ("role.", "schema.", "action.", "country.", "batch.status.", "grants.status.")

_MESSAGES: dict[str, tuple[str, str]] = {
    # shell
    "app.name": ("Binational", "Binacional"),
    "app.tagline": ("United States and Mexico shared data platform",
                    "Plataforma de datos compartidos de México y Estados Unidos"),
    "a11y.skip": ("Skip to main content", "Ir al contenido principal"),
    "lang.switch": ("Language", "Idioma"),
    "footer.notice": (
        "Every query is recorded with its purpose and case reference in a tamper-evident "
        "audit log. Records of other agencies are shown only under their live grants.",
        "Cada consulta queda registrada con su propósito y referencia de caso en una bitácora "
        "a prueba de alteraciones. Los registros de otras dependencias solo se muestran "
        "mediante autorizaciones vigentes."),
    "header.user": ("Signed in as {user}, {agency} ({country})",
                    "Sesión de {user}, {agency} ({country})"),
    "header.purpose": ("Purpose:", "Propósito:"),
    "header.case": ("Case:", "Caso:"),
    "header.change": ("Change", "Cambiar"),
    "nav.main": ("Main", "Principal"),
    "nav.home": ("Home", "Inicio"),
    "nav.search": ("Search records", "Buscar registros"),
    "nav.screening": ("Screening", "Revisión de listas"),
    "nav.grants": ("Grants and receipts", "Autorizaciones y acuses"),
    "nav.audit": ("Audit log", "Bitácora de auditoría"),
    "nav.sign_out": ("Sign out", "Cerrar sesión"),
    "role.analyst": ("Analyst", "Analista"),
    "role.supervisor": ("Supervisor", "Supervisor"),
    "role.agency-admin": ("Agency administrator", "Administrador de la dependencia"),
    "role.auditor": ("Auditor", "Auditor"),
    "role.sync": ("Synchronisation", "Sincronización"),
    "country.US": ("United States", "Estados Unidos"),
    "country.MX": ("Mexico", "México"),
    "action.read": ("read", "consultar"),
    "action.search": ("search", "buscar"),
    "action.export": ("export", "exportar"),
    "schema.LegalEntity": ("Any person or organisation", "Cualquier persona u organización"),
    "schema.Person": ("Person", "Persona"),
    "schema.Company": ("Company", "Empresa"),
    "schema.Organization": ("Organisation", "Organización"),
    "common.yes": ("Yes", "Sí"),
    "common.no": ("No", "No"),
    # sign-in and purpose
    "signin.title": ("Sign in", "Iniciar sesión"),
    "signin.intro": ("Sign in with your password and the one-time code of your authenticator.",
                     "Inicie sesión con su contraseña y el código de un solo uso de su "
                     "autenticador."),
    "signin.username": ("Username", "Usuario"),
    "signin.password": ("Password", "Contraseña"),
    "signin.totp": ("One-time code", "Código de un solo uso"),
    "signin.totp_help": ("Six digits from your authenticator app.",
                         "Seis dígitos de su aplicación de autenticación."),
    "signin.submit": ("Sign in", "Entrar"),
    "signin.failed": ("The username, password or one-time code is not correct.",
                      "El usuario, la contraseña o el código de un solo uso no son correctos."),
    "signin.locked": ("This account is locked after too many failed sign-ins. Try again in a "
                      "few minutes or ask your agency administrator.",
                      "La cuenta está bloqueada por demasiados intentos fallidos. Inténtelo de "
                      "nuevo en unos minutos o consulte al administrador de su dependencia."),
    "signin.expired": ("Your session has expired. Sign in again.",
                       "Su sesión ha expirado. Inicie sesión de nuevo."),
    "signin.signed_out": ("You have signed out.", "Ha cerrado la sesión."),
    "context.title": ("Purpose and case", "Propósito y caso"),
    "context.intro": ("Every query is recorded with why it is made. State the purpose and the "
                      "case reference of this working session; they are shown at the top of "
                      "every page and you can change them at any time.",
                      "Cada consulta se registra con su motivo. Indique el propósito y la "
                      "referencia de caso de esta sesión de trabajo; se muestran en la parte "
                      "superior de cada página y puede cambiarlos en cualquier momento."),
    "context.purpose": ("Purpose", "Propósito"),
    "context.choose": ("Choose…", "Elija…"),
    "context.case": ("Case reference", "Referencia de caso"),
    "context.case_help": ("For example FGR/2026/0142: letters, digits, spaces and . / : # ( ) -",
                          "Por ejemplo FGR/2026/0142: letras, dígitos, espacios y . / : # ( ) -"),
    "context.submit": ("Continue", "Continuar"),
    "context.invalid": ("Choose a purpose and give a case reference of 1 to 128 letters, digits, "
                        "spaces or . / : # ( ) -, starting with a letter or digit.",
                        "Elija un propósito e indique una referencia de caso de 1 a 128 letras, "
                        "dígitos, espacios o . / : # ( ) -, que empiece con letra o dígito."),
    # home and search
    "home.title": ("Home", "Inicio"),
    "home.welcome": ("Welcome, {user} ({agency}).", "Bienvenido/a, {user} ({agency})."),
    "home.screen": ("Screen a name", "Revisar un nombre"),
    "home.search": ("Search records", "Buscar registros"),
    "home.datasets": ("Data you can see", "Datos que puede consultar"),
    "home.datasets_intro": ("Datasets open to you for the purpose “{purpose}”: your agency's "
                            "own, and those other agencies have granted.",
                            "Conjuntos de datos abiertos para el propósito «{purpose}»: los de "
                            "su dependencia y los que otras dependencias le han autorizado."),
    "home.no_datasets": ("No dataset is open to you for this purpose.",
                         "Ningún conjunto de datos está abierto para este propósito."),
    "home.auditor": ("Auditors examine the trail of access, not the records themselves.",
                     "Los auditores examinan el registro de accesos, no los registros mismos."),
    "search.title": ("Search records", "Buscar registros"),
    "search.q": ("Name or words to look for", "Nombre o palabras a buscar"),
    "search.submit": ("Search", "Buscar"),
    "search.results": ("{total} records found", "{total} registros encontrados"),
    "search.none": ("Nothing found that you may see.", "No se encontró nada que pueda consultar."),
    "search.more": ("Next results", "Resultados siguientes"),
    # screening
    "screening.title": ("Designation screening", "Revisión de listas de designados"),
    "screening.intro": ("Check names against the sanctions and designation lists open to you. "
                        "Each result explains its score.",
                        "Compare nombres con las listas de sanciones y designaciones abiertas "
                        "para usted. Cada resultado explica su puntuación."),
    "screening.single": ("One name", "Un nombre"),
    "screening.name": ("Name", "Nombre"),
    "screening.schema": ("Kind", "Tipo"),
    "screening.dob": ("Date of birth (optional)", "Fecha de nacimiento (opcional)"),
    "screening.dob_help": ("YYYY, YYYY-MM or YYYY-MM-DD", "AAAA, AAAA-MM o AAAA-MM-DD"),
    "screening.country": ("Country (optional)", "País (opcional)"),
    "screening.country_help": ("Two-letter code, e.g. mx or us",
                               "Código de dos letras, p. ej. mx o us"),
    "screening.submit": ("Screen", "Revisar"),
    "screening.results": ("Results for “{name}”", "Resultados para «{name}»"),
    "screening.none": ("No candidate on the lists open to you.",
                       "Ningún candidato en las listas abiertas para usted."),
    "screening.threshold": ("A result is a match at a score of {threshold} or more.",
                            "Un resultado coincide a partir de una puntuación de {threshold}."),
    "screening.invalid": ("The query could not be screened: {problem}",
                          "No se pudo revisar la consulta: {problem}"),
    "screening.batch": ("A file of names", "Un archivo de nombres"),
    "screening.batch_intro": ("Upload a CSV file (UTF-8, at most {size} and {rows} names) with a "
                              "“name” column and optionally schema, dob, country and "
                              "identifier. The file is not kept.",
                              "Suba un archivo CSV (UTF-8, máximo {size} y {rows} nombres) con "
                              "una columna «name» y opcionalmente schema, dob, country e "
                              "identifier. El archivo no se conserva."),
    "screening.file": ("CSV file", "Archivo CSV"),
    "screening.file_help": ("Results are ready to download when the screening ends.",
                            "Los resultados se pueden descargar al terminar la revisión."),
    "screening.upload": ("Upload and screen", "Subir y revisar"),
    "batch.title": ("Batch screening", "Revisión por lotes"),
    "batch.file": ("File: {name}", "Archivo: {name}"),
    "batch.progress": ("Progress", "Avance"),
    "batch.status.queued": ("Waiting to start…", "En espera…"),
    "batch.status.running": ("Screened {done} of {total} names…",
                             "Revisados {done} de {total} nombres…"),
    "batch.status.done": ("Done: {total} names screened, {matches} matches.",
                          "Terminado: {total} nombres revisados, {matches} coincidencias."),
    "batch.status.failed": ("The screening stopped after {done} of {total} names.",
                            "La revisión se detuvo después de {done} de {total} nombres."),
    "batch.download": ("Download the results (CSV)", "Descargar los resultados (CSV)"),
    "batch.keep_notice": ("The results are kept in memory for 30 minutes at most, for you only.",
                          "Los resultados se guardan en memoria 30 minutos como máximo, solo "
                          "para usted."),
    "batch.discard": ("Discard the results now", "Descartar los resultados ahora"),
    "batch.discarded": ("The results were discarded.", "Los resultados se descartaron."),
    "batch.back": ("Back to screening", "Volver a la revisión"),
    "batch.gone": ("These batch results are no longer available (they expire after 30 minutes "
                   "or when discarded).",
                   "Estos resultados ya no están disponibles (vencen a los 30 minutos o al "
                   "descartarse)."),
    "batch.not_ready": ("The results are not ready yet.", "Los resultados aún no están listos."),
    "batch.error.nofile": ("Choose a CSV file to upload.", "Elija un archivo CSV para subir."),
    "batch.error.empty": ("The file has no names to screen.",
                          "El archivo no tiene nombres para revisar."),
    "batch.error.encoding": ("The file is not UTF-8 text (line {line}). Save it as “CSV UTF-8”.",
                             "El archivo no es texto UTF-8 (línea {line}). Guárdelo como "
                             "«CSV UTF-8»."),
    "batch.error.binary": ("The file is not a CSV text file.",
                           "El archivo no es un archivo de texto CSV."),
    "batch.error.csv": ("The CSV file is malformed at line {line}: {problem}",
                        "El archivo CSV está mal formado en la línea {line}: {problem}"),
    "batch.error.header": ("The first line must name the columns, including “name” "
                           "(found: {found}).",
                           "La primera línea debe nombrar las columnas, incluida «name» "
                           "(encontradas: {found})."),
    "batch.error.columns": ("Line {line} has more values than the header has columns.",
                            "La línea {line} tiene más valores que columnas el encabezado."),
    "batch.error.name": ("Line {line} has no name.", "La línea {line} no tiene nombre."),
    "batch.error.row": ("Line {line} cannot be screened: {problem}",
                        "La línea {line} no se puede revisar: {problem}"),
    "batch.error.rows": ("The file has more than {max} names; split it.",
                         "El archivo tiene más de {max} nombres; divídalo."),
    "batch.error.busy": ("The server is screening other files; try again in a minute.",
                         "El servidor está revisando otros archivos; inténtelo en un minuto."),
    # entity
    "entity.sources": ("Sources and sharing", "Fuentes y acceso compartido"),
    "entity.owned_by": ("owned by {agency} ({country})", "de {agency} ({country})"),
    "entity.designations": ("Designations", "Designaciones"),
    "entity.statements": ("What the sources say", "Lo que dicen las fuentes"),
    "entity.network": ("Network", "Red de vínculos"),
    "entity.network_help": ("Drag to move, scroll to zoom; select a record to open it. The same "
                            "links are listed in the table below.",
                            "Arrastre para mover y use la rueda para acercar; seleccione un "
                            "registro para abrirlo. Los mismos vínculos se listan en la tabla."),
    "entity.network_label": ("Network graph of {name} and its linked records",
                             "Grafo de vínculos de {name} y sus registros relacionados"),
    "entity.network_error": ("The network graph could not be shown; the table below lists the "
                             "same links.",
                             "No se pudo mostrar el grafo; la tabla siguiente lista los mismos "
                             "vínculos."),
    "entity.links": ("Linked records", "Registros vinculados"),
    "entity.no_links": ("No linked record that you may see.",
                        "Ningún registro vinculado que pueda consultar."),
    "mark.own": ("Your agency", "Su dependencia"),
    "mark.tlp": ("TLP:{tlp}", "TLP:{tlp}"),
    "mark.grant": ("via grant {grant}", "por la autorización {grant}"),
    # grants
    "grants.title": ("Grants and access receipts", "Autorizaciones y acuses de acceso"),
    "grants.intro": ("Your agency's records cross to another agency only under a grant you "
                     "create: bound to purposes, with an expiry, and revocable at once. Every "
                     "use of a grant leaves a receipt below.",
                     "Los registros de su dependencia solo pasan a otra dependencia con una "
                     "autorización que usted crea: limitada a propósitos, con vencimiento y "
                     "revocable de inmediato. Cada uso deja un acuse abajo."),
    "grants.new": ("New grant", "Nueva autorización"),
    "grants.datasets": ("Datasets to share", "Conjuntos de datos a compartir"),
    "grants.recipient": ("Recipient", "Destinatario"),
    "grants.agencies": ("Agencies", "Dependencias"),
    "grants.countries": ("Every agency of a country", "Todas las dependencias de un país"),
    "grants.actions": ("Allowed actions", "Acciones permitidas"),
    "grants.purposes": ("For these purposes", "Para estos propósitos"),
    "grants.legal_basis": ("Legal basis", "Fundamento legal"),
    "grants.legal_help": ("The treaty, memorandum or statute the sharing rests on.",
                          "El tratado, memorándum o ley en que se basa el intercambio."),
    "grants.expires": ("Expires on", "Vence el"),
    "grants.tlp": ("Traffic Light Protocol marking", "Marca del protocolo de semáforo (TLP)"),
    "grants.onward": ("The recipient may pass it on", "El destinatario puede compartirla"),
    "grants.create": ("Create the grant", "Crear la autorización"),
    "grants.created": ("Grant {id} was created.", "Se creó la autorización {id}."),
    "grants.revoked": ("Grant {id} was revoked.", "Se revocó la autorización {id}."),
    "grants.refused": ("The grant was refused:", "La autorización fue rechazada:"),
    "grants.need_datasets": ("Choose at least one dataset.",
                             "Elija al menos un conjunto de datos."),
    "grants.need_recipient": ("Choose a recipient.", "Elija un destinatario."),
    "grants.bad_choice": ("An action, purpose or marking is not one of the choices.",
                          "Una acción, propósito o marca no es una de las opciones."),
    "grants.bad_date": ("Give the expiry date as YYYY-MM-DD.",
                        "Indique la fecha de vencimiento como AAAA-MM-DD."),
    "grants.no_datasets": ("Your agency has no dataset to share yet.",
                           "Su dependencia aún no tiene conjuntos de datos para compartir."),
    "grants.given": ("Grants your agency gave", "Autorizaciones otorgadas por su dependencia"),
    "grants.received": ("Grants your agency received",
                        "Autorizaciones recibidas por su dependencia"),
    "grants.none": ("None.", "Ninguna."),
    "grants.reason": ("Reason for revoking", "Motivo de la revocación"),
    "grants.reason_needed": ("Say why the grant is revoked.",
                             "Indique por qué se revoca la autorización."),
    "grants.revoke": ("Revoke", "Revocar"),
    "grants.status.live": ("live", "vigente"),
    "grants.status.expired": ("expired", "vencida"),
    "grants.status.revoked": ("revoked", "revocada"),
    "grants.receipts": ("Access receipts", "Acuses de acceso"),
    "grants.receipts_intro": ("Reads of your agency's records by other agencies, newest first.",
                              "Consultas de otras dependencias a los registros de su "
                              "dependencia, de la más reciente a la más antigua."),
    "grants.no_receipts": ("No other agency has read your records yet.",
                           "Ninguna otra dependencia ha consultado aún sus registros."),
    # audit
    "audit.title": ("Audit log", "Bitácora de auditoría"),
    "audit.intro": ("What your country's users did and what was done to its records. The log is "
                    "hash-chained and its state is signed in checkpoints.",
                    "Lo que hicieron los usuarios de su país y lo que se hizo con sus "
                    "registros. La bitácora está encadenada por hashes y su estado se firma en "
                    "puntos de control."),
    "audit.verify": ("Verify the whole log", "Verificar toda la bitácora"),
    "audit.checkpoint": ("Sign a checkpoint now", "Firmar un punto de control ahora"),
    "audit.verified": ("The log verifies: {records} records, {checkpoints} signed checkpoints "
                       "checked.",
                       "La bitácora es íntegra: {records} registros y {checkpoints} puntos de "
                       "control firmados verificados."),
    "audit.broken": ("The log does NOT verify, from record {seq} on.",
                     "La bitácora NO es íntegra a partir del registro {seq}."),
    "audit.signed": ("Checkpoint signed at {size} records.",
                     "Punto de control firmado con {size} registros."),
    "audit.records": ("Records", "Registros"),
    "audit.actor": ("User", "Usuario"),
    "audit.action": ("Action", "Acción"),
    "audit.agency": ("Agency", "Dependencia"),
    "audit.filter": ("Filter", "Filtrar"),
    "audit.none": ("No record matches.", "Ningún registro coincide."),
    "audit.checkpoints": ("Signed checkpoints", "Puntos de control firmados"),
    "audit.key": ("Signing key: {key}", "Clave de firma: {key}"),
    "audit.size": ("Records covered", "Registros cubiertos"),
    "audit.root": ("Merkle root", "Raíz de Merkle"),
    "audit.no_checkpoints": ("No checkpoint yet.", "Aún no hay puntos de control."),
    # table columns
    "col.dataset": ("Dataset", "Conjunto de datos"),
    "col.datasets": ("Datasets", "Conjuntos de datos"),
    "col.owner": ("Owner", "Propietario"),
    "col.records": ("Records", "Registros"),
    "col.access": ("Access", "Acceso"),
    "col.score": ("Score", "Puntuación"),
    "col.match": ("Match", "Coincide"),
    "col.name": ("Name", "Nombre"),
    "col.lists": ("Lists", "Listas"),
    "col.programs": ("Programs", "Programas"),
    "col.program": ("Program", "Programa"),
    "col.authority": ("Authority", "Autoridad"),
    "col.listed": ("Listed", "Fecha de inclusión"),
    "col.source": ("Source", "Fuente"),
    "col.why": ("Why", "Por qué"),
    "col.property": ("Property", "Propiedad"),
    "col.value": ("Value", "Valor"),
    "col.sharing": ("Sharing", "Acceso"),
    "col.last_seen": ("Last seen", "Visto por última vez"),
    "col.relation": ("Relation", "Relación"),
    "col.record": ("Record", "Registro"),
    "col.kind": ("Kind", "Tipo"),
    "col.grant": ("Grant", "Autorización"),
    "col.recipient": ("Recipient", "Destinatario"),
    "col.actions": ("Actions", "Acciones"),
    "col.purposes": ("Purposes", "Propósitos"),
    "col.expires": ("Expires", "Vence"),
    "col.status": ("Status", "Estado"),
    "col.revoke": ("Revoke", "Revocar"),
    "col.when": ("When (UTC)", "Cuándo (UTC)"),
    "col.reader": ("Reader", "Lector"),
    "col.action": ("Action", "Acción"),
    "col.purpose": ("Purpose", "Propósito"),
    "col.case": ("Case", "Caso"),
    "col.outcome": ("Outcome", "Resultado"),
    "col.objects": ("Records", "Registros"),
    # errors
    "error.title": ("Something needs your attention", "Algo requiere su atención"),
    "error.home": ("Back to the home page", "Volver al inicio"),
    "error.request_id": ("Request id for support: {id}", "Identificador para soporte: {id}"),
    "error.not_found": ("This page or record does not exist, or you may not see it.",
                        "Esta página o registro no existe, o no tiene permiso para verlo."),
    "error.forbidden": ("Your role does not allow this. Ask your agency administrator if you "
                        "need it.",
                        "Su función no permite esta acción. Consulte al administrador de su "
                        "dependencia si la necesita."),
    "error.too_large": ("The upload is larger than the limit of {limit}.",
                        "El archivo supera el límite de {limit}."),
    "error.too_large_generic": ("The upload is too large.", "El archivo es demasiado grande."),
    "error.length_required": ("The browser did not say how large the upload is; try again.",
                              "El navegador no indicó el tamaño del envío; inténtelo de nuevo."),
    "error.invalid": ("The request could not be processed.", "No se pudo procesar la solicitud."),
    "error.csrf": ("This form has expired or did not come from this application. Reload the "
                   "page and try again.",
                   "Este formulario venció o no proviene de esta aplicación. Recargue la "
                   "página e inténtelo de nuevo."),
    "error.field": ("The field {field} is not valid.", "El campo {field} no es válido."),
    "error.field_long": ("The field {field} is longer than {max} characters.",
                         "El campo {field} tiene más de {max} caracteres."),
    "error.purpose": ("State the purpose and case reference first.",
                      "Indique primero el propósito y la referencia de caso."),
    "error.internal": ("Something went wrong on the server. Quote the request id to support.",
                       "Ocurrió un error en el servidor. Indique el identificador a soporte."),
}

EN: dict[str, str] = {key: en for key, (en, _es) in _MESSAGES.items()}
ES: dict[str, str] = {key: es for key, (_en, es) in _MESSAGES.items()}
