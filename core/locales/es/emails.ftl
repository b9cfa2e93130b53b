## Correos. Nunca detalles del caso, nombres de otras personas ni la categoría del evento: solo
## que hay algo pendiente y un enlace a la página donde la persona puede actuar.

email-sign-in = Iniciar sesión
email-footer = — Programa de apoyo al personal clínico de { $institution }
email-outreach-subject = Tiene apoyo disponible
email-outreach-1 = Después de un evento reciente en el trabajo, su programa de apoyo se está comunicando con todas las personas que estuvieron ahí.
email-outreach-2 = A muchas personas les ayuda hablar con un colega capacitado. Es confidencial y no hay ninguna presión: puede pedir apoyo ahora, más adelante o nunca.
email-recontact-subject = Seguimos aquí si quiere hablar
email-recontact-1 = Hace un tiempo, su programa de apoyo se puso en contacto con usted tras un suceso en el trabajo. Le escribimos una vez más, con calma, porque a veces los sentimientos llegan después.
email-recontact-2 = Si le ayudaría hablar con un colega formado, puede pedirlo cuando quiera. Si prefiere que no le escribamos más sobre este suceso, dígalo con un solo toque en la página que abre este enlace.
email-referral-subject = Alguien con quien trabaja piensa en usted
email-referral-1 = Un colega avisó a su programa de apoyo de que pensaba en usted y nos pidió que nos pusiéramos en contacto.
email-referral-2 = Si le ayudaría hablar con un colega formado, es confidencial y sin ninguna presión. También puede pedirnos que no volvamos a contactarle por esto.
email-handoff-subject = Se ha derivado a un colega a su programa
email-handoff-1 = El programa de apoyo entre colegas de { $institution } ha derivado a una persona del personal a su programa. Abra el enlace para ver lo que aceptó compartir con ustedes y para confirmar la derivación.
email-handoff-open = Ver la derivación y confirmarla
email-offer-subject = Tiene una nueva solicitud de apoyo
email-offer-1 = Tiene una nueva solicitud de apoyo. Inicie sesión para verla.
email-match-accepted-subject = Un colega de apoyo se comunicará con usted
email-match-accepted-1 = Un colega capacitado aceptó su solicitud y se comunicará con usted pronto. Inicie sesión para verla.
email-follow-up-due-subject = Toca un seguimiento
email-follow-up-due-1 = Toca preguntarle a alguien cómo está. Inicie sesión para verlo.
email-sla-breach-subject = Una solicitud de apoyo pasó su plazo
email-sla-breach-1 = Una solicitud de apoyo pasó su plazo de { $clock }. Inicie sesión para ver la lista.
email-clock-acknowledgement = confirmación
email-clock-first-contact = primer contacto
email-clock-response = respuesta
email-crisis-alert-subject = Piden apoyo en crisis: actúe ahora
email-crisis-alert-1 = Alguien pidió apoyo en crisis. Inicie sesión ahora para ver la solicitud.
email-introduction-subject = Un colega de otra institución quiere hablar
email-introduction-1 = Un colega de otra institución de su red pidió hablar con alguien como usted. Inicie sesión para ver la presentación y aceptarla o no.
email-introduction-answered-subject = Su presentación tiene respuesta
email-introduction-lapsed-subject = Aún sin respuesta: puede elegir a otro colega
email-introduction-lapsed-1 = El colega de apoyo de la otra institución no respondió en un día. Inicie sesión para elegir a otra persona; su solicitud sigue abierta.
email-introduction-answered-1 = El colega de apoyo de la otra institución respondió a su presentación. Inicie sesión para verla.
email-check-in-subject = Su programa de apoyo entre colegas quiere saber cómo está
email-check-in-1 = Su programa de apoyo entre colegas le escribe para saber cómo está, como hace con todas las personas que acompaña. Si quiere volver a hablar, con el mismo colega o con otra persona, inicie sesión. Si no, no tiene que hacer nada.
email-survey-subject = ¿Cómo fue el apoyo que recibió? (anónima, 2 minutos)
email-survey-1 = Su solicitud de apoyo está cerrada. Si quiere contarnos cómo le fue, esta encuesta corta es anónima: sus respuestas no se pueden relacionar con usted. Funciona una sola vez.
email-training-expiry-subject = Su capacitación como colega de apoyo está por vencer
email-training-expiry-1 = Su capacitación como colega de apoyo vence el { $date }. Renuévela para que le sigan poniendo en contacto con colegas que piden apoyo.
email-sign-in-link-subject = Su enlace para entrar
email-sign-in-link-1 = Use este enlace en los próximos 15 minutos para entrar. Funciona una sola vez.
email-sign-in-link-2 = Si usted no pidió entrar, no haga caso a este correo.

## Mensajes de texto: una frase corta y un enlace. Ningún nombre, nada del caso.
text-any = { $institution }: algo necesita su atención. { $link }
text-offer = { $institution }: un colega espera a un colega de apoyo. Responda en unos minutos: { $link }
text-crisis-alert = { $institution }: una solicitud de apoyo en crisis le necesita ahora. Confirme aquí: { $link }
text-sla-breach = { $institution }: una solicitud de apoyo no cumplió su plazo. Confirme aquí: { $link }
text-outreach = { $institution }: tras un suceso reciente en el trabajo, tiene apoyo entre colegas si lo desea: { $link }
text-recontact = { $institution }: seguimos aquí si quiere hablar tras el suceso reciente en el trabajo: { $link }
text-referral = { $institution }: un colega piensa en usted. Si lo desea, tiene apoyo entre colegas: { $link }
text-handoff = { $institution }: se ha derivado a una persona del personal a su programa. Véala y confírmela: { $link }
email-acknowledge = Me encargo: confirmar
email-clock-urgent-outreach = contacto urgente
