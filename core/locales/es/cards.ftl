# Las fichas de orientación que vienen con Alongside, tal como las lee una persona en la
# biblioteca. Los títulos y textos se leen de aquí en el idioma de quien lee; las etiquetas no
# cambian.

card-licence = Parte de Alongside; libre para usar y adaptar

card-safe-to-talk-title = De qué puede hablar con un colega de apoyo sin riesgo
card-safe-to-talk-summary = Hable de cómo se siente. Deje los hechos del caso para los espacios protegidos por la ley.
card-safe-to-talk-body =
    Un colega de apoyo está ahí para usted, no para el caso. Hablar de cómo se siente no tiene riesgo, y ayuda: el susto, la culpa, el enojo, el miedo, no poder dormir, dudar de usted, la preocupación por su trabajo o su licencia.

    No hable con su colega de apoyo de lo que pasó exactamente, de quién hizo qué, de los datos del paciente ni de su opinión sobre qué salió mal o de quién fue la culpa. Eso se habla en espacios protegidos por la ley (privilegiados): con un abogado o abogada, en la revisión formal entre colegas, con un profesional de salud mental con licencia o con un ministro religioso.

    Si no está seguro o segura, dígalo: su colega le ayudará a hablar de lo que siente, no de los hechos.

card-protected-here-title = Dónde están protegidas sus conversaciones aquí
card-protected-here-summary = Qué espacios están protegidos por la ley donde usted trabaja, y qué significa eso para el apoyo entre colegas.
# Se completa al leer la ficha, con el nombre de la institución, su jurisdicción y sus programas
# marcados como protegidos.
card-protected-here-body =
    Qué conversaciones están protegidas depende de dónde trabaja. { $institution } está en { $jurisdiction }. { $services }

    La protección suele cubrir las conversaciones con un abogado o abogada, la revisión formal entre colegas, los profesionales de salud mental con licencia y los ministros religiosos, y cambia según la jurisdicción. Un colega de apoyo es un compañero de trabajo, no alguien con quien la conversación esté protegida por la ley: comparta lo que siente, no los hechos.
card-protected-here-none = Su programa todavía no ha marcado ninguno de sus servicios como protegido por la ley. Mientras tanto, no hable de los detalles del caso en ninguna conversación de apoyo y pregunte a la oficina de gestión de riesgos o a la oficina legal dónde se pueden hablar.
card-protected-here-some = En { $institution }, estos servicios están marcados como protegidos por la ley: { $programs }. Ahí se pueden hablar los detalles del caso; en el apoyo entre colegas, hable de cómo se siente.

card-what-alongside-keeps-title = Qué guarda Alongside y qué no guarda nunca
card-what-alongside-keeps-summary = Ningún relato de lo que pasó, ninguna nota de lo que usted dijo, y sus datos personales se borran cuando termina su caso.
card-what-alongside-keeps-body =
    Alongside nunca guarda un relato de lo que pasó, notas de sus conversaciones ni nada que identifique a un paciente. Guarda lo necesario para conectarle con apoyo: su solicitud, sus preferencias, cuándo hubo contacto y cuánto tardó, y los seguimientos que usted aceptó.

    La coordinación del programa solo ve el estado de su solicitud, a menos que usted decida compartir más. Los colegas de apoyo ven el nombre que usted prefiere, su profesión y cómo quiere que le contacten. Cada vez que alguien mira su solicitud queda anotado en un registro.

    Cuando su caso termina, sus datos personales se borran después de un plazo (90 días, si no se cambió); solo quedan conteos anónimos, para mostrar que el programa funciona. Nada que le identifique se comparte con otros hospitales, a menos que usted decida compartirlo.
